import FerryCore

// IdentityCapability over IAM.
extension AWSTargetAdapter: IdentityCapability {
    public func createUser(name: String, tags: ResourceTags) async throws -> IdentityUser {
        try await connection().iam.createUser(name: name, tags: tags)
    }

    public func putUserPolicy(userName: String, policyName: String, document: PolicyDocument) async throws {
        try await connection().iam.putUserPolicy(userName: userName, policyName: policyName, document: document)
    }

    public func createAccessKey(userName: String) async throws -> AccessKeyGrant {
        try await connection().iam.createAccessKey(userName: userName)
    }

    public func deleteUser(name: String) async throws {
        try await connection().iam.deleteUser(name: name)
    }

    /// The least-privilege policy for the workbench's user: exactly the actions this adapter
    /// calls to migrate (EC2, the EBS direct APIs, STS), and nothing of IAM.
    public static func workbenchPolicy() -> PolicyDocument {
        FerryPolicy.document(services: [.ec2, .ebs, .sts])
    }

    public var workbenchPolicy: PolicyDocument { Self.workbenchPolicy() }
}

/// Policies generated from the action lists the clients call through.
public enum FerryPolicy {
    public static func actions(of service: AWSService) -> [String] {
        let names: [String]
        switch service {
        case .ec2: names = EC2Action.allCases.map(\.rawValue)
        case .ebs: names = EBSAction.allCases.map(\.rawValue)
        case .iam: names = IAMAction.allCases.map(\.rawValue)
        case .sts: names = STSAction.allCases.map(\.rawValue)
        }
        return names.sorted().map { "\(service.rawValue):\($0)" }
    }

    /// One statement per service, allowing its actions on any resource.
    public static func document(services: [AWSService]) -> PolicyDocument {
        PolicyDocument(statements: services.map { PolicyDocument.Statement(actions: actions(of: $0)) })
    }
}
