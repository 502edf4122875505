/// STS over the Query protocol: who the credentials belong to.
struct STSClient: Sendable {
    var query: QueryClient

    init(http: AWSHTTPClient) {
        query = QueryClient(http: http, service: .sts, version: "2011-06-15")
    }

    func getCallerIdentity() async throws -> CallerIdentity {
        let tree = try await query.call(STSAction.getCallerIdentity.rawValue)
        guard let result = tree.child("GetCallerIdentityResult"), let account = result.string("Account"), let arn = result.string("Arn") else {
            throw AWSResponseError(service: "sts", operation: "GetCallerIdentity", reason: "no Account or Arn in the answer")
        }
        return CallerIdentity(account: account, arn: arn, userID: result.string("UserId") ?? "")
    }
}

/// The account and principal behind a set of credentials.
public struct CallerIdentity: Codable, Hashable, Sendable {
    public var account: String
    public var arn: String
    public var userID: String
}
