import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit

extension MotoSuite {
    /// IAM users, policies and access keys through Ferry's adapter, against moto.
    @Suite struct IdentityTests {
        static func fresh() async throws -> (MotoServer, AWSTargetAdapter) {
            let moto = try await MotoServer.shared.value
            try await moto.reset()
            return (moto, moto.adapter())
        }

        @Test("the workbench's user gets the least-privilege policy and an access key that works")
        func workbenchUser() async throws {
            let (moto, aws) = try await Self.fresh()
            let user = try await aws.createUser(name: "ferry-workbench", tags: ["ferry:project": "p1"])
            #expect(user.name == "ferry-workbench")
            #expect(user.arn.hasSuffix(":user/ferry-workbench"))
            try await aws.putUserPolicy(userName: user.name, policyName: "ferry-workbench", document: AWSTargetAdapter.workbenchPolicy())
            let grant = try await aws.createAccessKey(userName: user.name)
            #expect(grant.userName == user.name)
            #expect(grant.accessKeyID.hasPrefix("AKIA"))

            let asUser = moto.adapter(accessKeyID: grant.accessKeyID, secret: grant.secret.reveal())
            #expect(try await asUser.callerIdentity().arn == user.arn)
        }

        @Test("an access key's secret never prints: not in descriptions or debug descriptions")
        func secretNeverPrints() async throws {
            let (_, aws) = try await Self.fresh()
            _ = try await aws.createUser(name: "quiet", tags: [:])
            let grant = try await aws.createAccessKey(userName: "quiet")
            let secret = grant.secret.reveal()
            #expect(secret.count >= 20)
            for text in ["\(grant)", String(reflecting: grant), "\(grant.secret)", String(reflecting: grant.secret)] {
                #expect(!text.contains(secret))
            }
        }

        @Test("deleting a user removes its access keys and inline policies first")
        func deleteUser() async throws {
            let (_, aws) = try await Self.fresh()
            _ = try await aws.createUser(name: "temp", tags: [:])
            try await aws.putUserPolicy(userName: "temp", policyName: "p", document: AWSTargetAdapter.workbenchPolicy())
            _ = try await aws.createAccessKey(userName: "temp")
            _ = try await aws.createAccessKey(userName: "temp")
            try await aws.deleteUser(name: "temp")
            let error = await #expect(throws: AWSError.self) {
                _ = try await aws.connection().iam.call(.getUser, QueryParameters([("UserName", "temp")]))
            }
            #expect(error?.kind == .notFound)
            #expect(error?.code == "NoSuchEntity")
        }

        @Test("the workbench policy allows exactly the EC2, EBS and STS actions the adapter calls, and no IAM")
        func policyIsGeneratedFromCalls() {
            let policy = AWSTargetAdapter.workbenchPolicy()
            let actions = policy.statements.flatMap(\.actions)
            #expect(actions.count == EC2Action.allCases.count + EBSAction.allCases.count + STSAction.allCases.count)
            #expect(actions.contains("ec2:RunInstances"))
            #expect(actions.contains("ebs:PutSnapshotBlock"))
            #expect(actions.contains("sts:GetCallerIdentity"))
            #expect(!actions.contains { $0.hasPrefix("iam:") })
            #expect(!actions.contains { $0.contains("*") })
        }
    }
}
