import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit

extension MotoSuite {
    /// A moto that checks signatures and policies (INITIAL_NO_AUTH_ACTION_COUNT=3): its first
    /// three actions create the workbench's user, its policy and its key; every later
    /// request is authenticated and authorized like AWS does.
    @Suite struct AuthEnforcedTests {
        struct Workbench: Sendable {
            var moto: MotoServer
            var keyID: String
            var secret: String
        }

        static let workbench = Task { () throws -> Workbench in
            let moto = try await MotoServer.authEnforcing.value
            let admin = moto.adapter()
            _ = try await admin.createUser(name: "ferry-workbench", tags: [:])
            try await admin.putUserPolicy(userName: "ferry-workbench", policyName: "ferry-workbench", document: AWSTargetAdapter.workbenchPolicy())
            let grant = try await admin.createAccessKey(userName: "ferry-workbench")
            return Workbench(moto: moto, keyID: grant.accessKeyID, secret: grant.secret.reveal())
        }

        @Test("Ferry's signatures are accepted: STS, EC2 and an EBS import under the workbench policy")
        func signaturesAccepted() async throws {
            let w = try await Self.workbench.value
            let aws = w.moto.adapter(accessKeyID: w.keyID, secret: w.secret)
            #expect(try await aws.callerIdentity().arn.hasSuffix(":user/ferry-workbench"))
            let vpc = try await aws.createVPC(cidrBlock: "10.70.0.0/16", tags: ["Name": "auth"])
            #expect(try await aws.describeNetworks().vpcs.contains(vpc))
            let volume = try await aws.importVolume(VolumeImportRequest(name: "auth", source: TestDisk.make(blocks: 2, data: [1])), progress: nil)
            #expect(volume.id.hasPrefix("snap-"))
        }

        @Test("a wrong secret fails with a clear 'authentication failed'")
        func wrongSecret() async throws {
            let w = try await Self.workbench.value
            let aws = w.moto.adapter(accessKeyID: w.keyID, secret: "not-the-secret")
            let error = await #expect(throws: AWSError.self) { _ = try await aws.describeNetworks() }
            #expect(error?.kind == .authenticationFailed)
            #expect(error?.description.contains("authentication failed") == true)
            #expect(error?.description.contains("not-the-secret") == false)
        }

        @Test("an unknown access key fails with 'authentication failed' too, and doctor says so")
        func unknownKey() async throws {
            let w = try await Self.workbench.value
            let aws = w.moto.adapter(accessKeyID: "AKIAUNKNOWN000000000", secret: "whatever")
            let diagnosis = await aws.diagnose()
            #expect(!diagnosis.ok)
            let identity = try #require(diagnosis.checks.first { $0.name == "identity" })
            #expect(!identity.ok)
            #expect(identity.detail.contains("authentication failed"))
            #expect(diagnosis.checks.first { $0.name == "endpoint" }?.ok == true)
        }

        @Test("an action outside the policy fails with a clear 'access denied'")
        func outsidePolicy() async throws {
            let w = try await Self.workbench.value
            let aws = w.moto.adapter(accessKeyID: w.keyID, secret: w.secret)
            let error = await #expect(throws: AWSError.self) { _ = try await aws.createUser(name: "escalate", tags: [:]) }
            #expect(error?.kind == .accessDenied)
            #expect(error?.description.contains("access denied") == true)
            #expect(error?.description.contains("CreateUser") == true)
        }
    }
}
