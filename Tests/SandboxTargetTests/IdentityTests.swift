import FerryCore
import FerryKit
import Foundation
import GRDB
import SandboxTarget
import Testing

struct IdentityTests {
    let workspace: TestWorkspace
    var adapter: SandboxTargetAdapter { workspace.adapter }

    init() throws { workspace = try TestWorkspace() }

    @Test func aUserGetsPoliciesAndAnAccessKeyWhoseSecretIsShownOnce() async throws {
        let user = try await adapter.createUser(name: "ferry-workbench", tags: [:])
        #expect(user.arn == "arn:aws:iam::000000000000:user/ferry-workbench")
        let document = PolicyDocument(statements: [.init(actions: ["ec2:RunInstances", "ebs:StartSnapshot"])])
        try await adapter.putUserPolicy(userName: user.name, policyName: "workbench", document: document)
        #expect(try workspace.cloud.userPolicies(userName: user.name) == ["workbench": document])

        let grant = try await adapter.createAccessKey(userName: user.name)
        #expect(grant.accessKeyID.hasPrefix("AKIA"))
        #expect(grant.secret.reveal().count == 40)
        #expect("\(grant.secret)" == "<redacted>")
        #expect(try workspace.cloud.verifyAccessKey(grant.accessKeyID, secret: grant.secret))
        #expect(try !workspace.cloud.verifyAccessKey(grant.accessKeyID, secret: Secret("not the secret")))
    }

    @Test func theSecretIsNotStoredInTheDatabase() async throws {
        _ = try await adapter.createUser(name: "alice", tags: [:])
        let grant = try await adapter.createAccessKey(userName: "alice")
        let dump = try await workspace.cloud.database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sandboxAccessKey").map { $0.description }.joined()
        }
        #expect(dump.contains(grant.accessKeyID))
        #expect(!dump.contains(grant.secret.reveal()))
    }

    @Test func aDuplicateUserIsRefused() async throws {
        _ = try await adapter.createUser(name: "bob", tags: [:])
        await #expect(throws: SandboxError.userAlreadyExists("bob")) { try await adapter.createUser(name: "bob", tags: [:]) }
    }

    @Test func aUserHasAtMostTwoAccessKeys() async throws {
        _ = try await adapter.createUser(name: "carol", tags: [:])
        _ = try await adapter.createAccessKey(userName: "carol")
        _ = try await adapter.createAccessKey(userName: "carol")
        await #expect(throws: SandboxError.accessKeyLimit(userName: "carol", limit: 2)) { try await adapter.createAccessKey(userName: "carol") }
    }

    @Test func anInvalidUserNameIsRefused() async throws {
        await #expect(throws: SandboxError.self) { try await adapter.createUser(name: "no spaces", tags: [:]) }
    }

    @Test func deletingAUserRemovesItsKeysAndPolicies() async throws {
        _ = try await adapter.createUser(name: "dave", tags: [:])
        _ = try await adapter.createAccessKey(userName: "dave")
        try await adapter.putUserPolicy(userName: "dave", policyName: "p", document: PolicyDocument(statements: []))
        try await adapter.deleteUser(name: "dave")
        #expect(try workspace.cloud.listUsers().isEmpty)
        #expect(try workspace.cloud.accessKeyIDs(userName: "dave").isEmpty)
        await #expect(throws: SandboxError.notFound(kind: .user, id: "dave")) { try await adapter.deleteUser(name: "dave") }
        await #expect(throws: SandboxError.notFound(kind: .user, id: "dave")) { try await adapter.createAccessKey(userName: "dave") }
    }
}
