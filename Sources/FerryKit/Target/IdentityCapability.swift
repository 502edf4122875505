/// Users, access keys and policies: enough to create the workbench's own least-privilege user.
public protocol IdentityCapability: Adapter {
    func createUser(name: String, tags: ResourceTags) async throws -> IdentityUser
    /// Attaches an inline policy named `policyName` to `userName`.
    func putUserPolicy(userName: String, policyName: String, document: PolicyDocument) async throws
    /// Creates an access key; the secret is in the result and nowhere else, ever again.
    func createAccessKey(userName: String) async throws -> AccessKeyGrant
    /// Deletes the user with its access keys and inline policies.
    func deleteUser(name: String) async throws
}

public struct IdentityUser: Codable, Hashable, Sendable {
    public var name: String
    public var id: String
    public var arn: String
    public init(name: String, id: String, arn: String) {
        self.name = name
        self.id = id
        self.arn = arn
    }
}

/// An IAM-style policy: statements allowing or denying actions on resources.
public struct PolicyDocument: Codable, Hashable, Sendable {
    public struct Statement: Codable, Hashable, Sendable {
        public var effect: String
        public var actions: [String]
        public var resources: [String]
        public init(effect: String = "Allow", actions: [String], resources: [String] = ["*"]) {
            self.effect = effect
            self.actions = actions
            self.resources = resources
        }
        enum CodingKeys: String, CodingKey {
            case effect = "Effect", actions = "Action", resources = "Resource"
        }
    }

    public var version: String
    public var statements: [Statement]

    public init(version: String = "2012-10-17", statements: [Statement]) {
        self.version = version
        self.statements = statements
    }

    enum CodingKeys: String, CodingKey {
        case version = "Version", statements = "Statement"
    }
}

/// A new access key. `secret` never prints itself; reveal it once, on purpose.
public struct AccessKeyGrant: Sendable {
    public var accessKeyID: String
    public var userName: String
    public var secret: Secret
    public init(accessKeyID: String, userName: String, secret: Secret) {
        self.accessKeyID = accessKeyID
        self.userName = userName
        self.secret = secret
    }
}
