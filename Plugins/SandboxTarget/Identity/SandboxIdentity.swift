import Crypto
import FerryCore
import Foundation
import GRDB

/// Users, inline policies and access keys. A secret is returned once, at creation; the
/// database keeps only a salted SHA-256 of it.
extension SandboxCloud {
    static let accessKeysPerUser = 2

    public func createUser(name: String, tags: ResourceTags = [:]) throws -> IdentityUser {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")
        guard (1...64).contains(name.count), name.allSatisfy(allowed.contains) else {
            throw SandboxError.invalidName(field: "user name", value: name, reason: "must be 1 to 64 letters, digits or +=,.@_-")
        }
        return try database.write { db in
            if try UserRecord.fetchOne(db, key: name) != nil { throw SandboxError.userAlreadyExists(name) }
            let id = "AIDA" + Self.randomUppercase(16)
            let record = UserRecord(name: name, id: id, arn: "arn:aws:iam::000000000000:user/\(name)", tags: tagsText(tags), createdAt: Date())
            try record.insert(db)
            return IdentityUser(name: name, id: id, arn: record.arn)
        }
    }

    public func putUserPolicy(userName: String, policyName: String, document: PolicyDocument) throws {
        guard !policyName.isEmpty, policyName.count <= 128 else {
            throw SandboxError.invalidName(field: "policy name", value: policyName, reason: "must be 1 to 128 characters")
        }
        try database.write { db in
            guard try UserRecord.fetchOne(db, key: userName) != nil else { throw SandboxError.notFound(kind: .user, id: userName) }
            try UserPolicyRecord(userName: userName, policyName: policyName, document: JSONText.encode(document)).save(db)
        }
    }

    public func createAccessKey(userName: String) throws -> AccessKeyGrant {
        let secret = Self.randomSecret()
        let salt = Self.randomUppercase(16)
        return try database.write { db in
            guard try UserRecord.fetchOne(db, key: userName) != nil else { throw SandboxError.notFound(kind: .user, id: userName) }
            let existing = try AccessKeyRecord.filter(Column("userName") == userName).fetchCount(db)
            guard existing < Self.accessKeysPerUser else { throw SandboxError.accessKeyLimit(userName: userName, limit: Self.accessKeysPerUser) }
            let id = "AKIA" + Self.randomUppercase(16)
            try AccessKeyRecord(id: id, userName: userName, secretSalt: salt, secretHash: Self.hash(secret, salt: salt), createdAt: Date()).insert(db)
            return AccessKeyGrant(accessKeyID: id, userName: userName, secret: Secret(secret))
        }
    }

    /// Whether `secret` is the secret of access key `accessKeyID`.
    public func verifyAccessKey(_ accessKeyID: String, secret: Secret) throws -> Bool {
        try database.read { db in
            guard let key = try AccessKeyRecord.fetchOne(db, key: accessKeyID) else { return false }
            return Self.hash(secret.reveal(), salt: key.secretSalt) == key.secretHash
        }
    }

    /// The inline policies of `userName`, by name.
    public func userPolicies(userName: String) throws -> [String: PolicyDocument] {
        try database.read { db in
            guard try UserRecord.fetchOne(db, key: userName) != nil else { throw SandboxError.notFound(kind: .user, id: userName) }
            var policies: [String: PolicyDocument] = [:]
            for record in try UserPolicyRecord.filter(Column("userName") == userName).fetchAll(db) {
                policies[record.policyName] = JSONText.decode(PolicyDocument.self, record.document)
            }
            return policies
        }
    }

    public func listUsers() throws -> [IdentityUser] {
        try database.read { db in
            try UserRecord.order(Column("createdAt")).fetchAll(db).map { IdentityUser(name: $0.name, id: $0.id, arn: $0.arn) }
        }
    }

    /// Access key ids of `userName` (never their secrets).
    public func accessKeyIDs(userName: String) throws -> [String] {
        try database.read { db in
            try AccessKeyRecord.filter(Column("userName") == userName).order(Column("createdAt")).fetchAll(db).map(\.id)
        }
    }

    public func deleteUser(name: String) throws {
        try database.write { db in
            guard try UserRecord.deleteOne(db, key: name) else { throw SandboxError.notFound(kind: .user, id: name) }
            try AccessKeyRecord.filter(Column("userName") == name).deleteAll(db)
            try UserPolicyRecord.filter(Column("userName") == name).deleteAll(db)
        }
    }

    static func hash(_ secret: String, salt: String) -> String {
        SHA256.hash(data: Data((salt + secret).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func randomUppercase(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    static func randomSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var generator = SystemRandomNumberGenerator()
        return String((0..<40).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}

extension SandboxTargetAdapter: IdentityCapability {
    /// The sandbox's operations a migration calls, named as the cloud it imitates names them.
    public var workbenchPolicy: PolicyDocument {
        PolicyDocument(statements: [PolicyDocument.Statement(actions: [
            "CreateVpc", "CreateSubnet", "CreateInternetGateway", "CreateRouteTable", "CreateRoute", "AssociateRouteTable",
            "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups",
            "DeleteVpc", "DeleteSubnet", "DeleteInternetGateway", "DeleteRouteTable", "DeleteSecurityGroup",
            "ImportVolume", "DeleteVolume", "RegisterImage", "DescribeImages", "DeregisterImage",
            "RunInstances", "DescribeInstances", "StopInstances", "StartInstances", "TerminateInstances",
        ].map { "sandbox:\($0)" })])
    }

    public func createUser(name: String, tags: ResourceTags) async throws -> IdentityUser {
        try await onCloud { try $0.createUser(name: name, tags: tags) }
    }

    public func putUserPolicy(userName: String, policyName: String, document: PolicyDocument) async throws {
        try await onCloud { try $0.putUserPolicy(userName: userName, policyName: policyName, document: document) }
    }

    public func createAccessKey(userName: String) async throws -> AccessKeyGrant {
        try await onCloud { try $0.createAccessKey(userName: userName) }
    }

    public func deleteUser(name: String) async throws {
        try await onCloud { try $0.deleteUser(name: name) }
    }
}
