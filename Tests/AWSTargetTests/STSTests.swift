import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit

extension MotoSuite {
    /// STS GetCallerIdentity and `ferry doctor`'s diagnosis, against moto.
    @Suite struct STSTests {
        @Test("GetCallerIdentity, signed by Ferry, answers with the account and the caller's ARN")
        func callerIdentity() async throws {
            let moto = try await MotoServer.shared.value
            let identity = try await moto.adapter().callerIdentity()
            #expect(identity.account.count == 12)
            #expect(identity.arn.hasPrefix("arn:aws:"))
        }

        @Test("the diagnosis of a working setup passes every check and names the account")
        func healthyDiagnosis() async throws {
            let moto = try await MotoServer.shared.value
            let diagnosis = await moto.adapter().diagnose()
            #expect(diagnosis.ok)
            #expect(diagnosis.checks.map(\.name) == ["credentials", "region", "endpoint", "identity"])
            #expect(diagnosis.identity != nil)
        }

        @Test("an endpoint nobody listens on is reported as unreachable, naming it")
        func unreachableEndpoint() async throws {
            let adapter = AWSTargetAdapter(
                environment: ["HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "AKIAX", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"],
                tuning: AWSTuning(retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01), requestTimeout: 5)
            )
            let diagnosis = await adapter.diagnose()
            #expect(!diagnosis.ok)
            let endpoint = try #require(diagnosis.checks.first { $0.name == "endpoint" })
            #expect(!endpoint.ok)
            #expect(endpoint.detail.contains("127.0.0.1:9"))
        }

        @Test("missing credentials are reported before anything is sent")
        func missingCredentials() async {
            let adapter = AWSTargetAdapter(environment: ["HOME": "/nonexistent", "AWS_REGION": "eu-west-1"])
            let diagnosis = await adapter.diagnose()
            #expect(diagnosis.checks.count == 1)
            #expect(diagnosis.checks[0].name == "credentials")
            #expect(diagnosis.checks[0].detail.contains("AWS_ACCESS_KEY_ID"))
        }
    }
}
