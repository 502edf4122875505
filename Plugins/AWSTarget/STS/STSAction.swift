/// Every STS action Ferry calls (the policy is generated from this list).
public enum STSAction: String, CaseIterable, Sendable {
    case getCallerIdentity = "GetCallerIdentity"
}
