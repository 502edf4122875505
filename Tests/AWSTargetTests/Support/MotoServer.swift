import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import AWSTarget
import FerryCore
import FerryKit
import FerryTestSupport

/// The moto servers of the AWS target's tests (started by FerryTestSupport's
/// `MotoServerProcess`), once per test process, with what these tests ask of them: a
/// reset, and settings and adapters that point every service at them.
final class MotoServer: Sendable {
    let server: LocalServerProcess
    var port: Int { server.port }
    var endpoint: URL { server.endpoint }

    /// The server the functional suites share; reset before each test.
    static let shared = Task { MotoServer(server: try await MotoServerProcess.start()) }

    /// A server that enforces authentication after its first three actions (which create
    /// the user whose keys the auth suite then uses).
    static let authEnforcing = Task { MotoServer(server: try await MotoServerProcess.start(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"])) }

    private init(server: LocalServerProcess) {
        self.server = server
    }

    /// Clears every resource the server holds.
    func reset() async throws {
        var request = URLRequest(url: endpoint.appendingPathComponent("moto-api/reset"))
        request.httpMethod = "POST"
        let (_, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw MotoError("reset failed") }
    }

    /// Settings that point every service at this server, with moto's test account keys.
    func settings(accessKeyID: String = "AKIAFERRYTEST0000001", secret: String = "ferry-test-secret", region: String = "eu-west-1") -> AWSSettings {
        AWSSettings(
            credentials: AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: Secret(secret)),
            region: region,
            endpoints: Dictionary(uniqueKeysWithValues: AWSService.allCases.map { ($0, endpoint) })
        )
    }

    func adapter(accessKeyID: String = "AKIAFERRYTEST0000001", secret: String = "ferry-test-secret", tuning: AWSTuning = MotoServer.fastTuning) -> AWSTargetAdapter {
        AWSTargetAdapter(settings: settings(accessKeyID: accessKeyID, secret: secret), tuning: tuning)
    }

    static let fastTuning = AWSTuning(retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.05, maxDelay: 0.5), requestTimeout: 30, uploadConcurrency: 8, pollInterval: 0.1, waitTimeout: 20)
}

struct MotoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
