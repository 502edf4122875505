import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
@testable import AWSTarget
import FerryCore
import FerryKit

/// A real `moto_server` (pip install 'moto[server]==5.2.1') on a free port of 127.0.0.1,
/// started once per test process and stopped when the process exits (or, should the
/// process die, by a watchdog that notices its parent is gone).
final class MotoServer: Sendable {
    let port: Int
    let process: Process
    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// The server the functional suites share; reset before each test.
    static let shared = Task { try await MotoServer.start(environment: [:]) }

    /// A server that enforces authentication after its first three actions (which create
    /// the user whose keys the auth suite then uses).
    static let authEnforcing = Task { try await MotoServer.start(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"]) }

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    static func start(environment extra: [String: String]) async throws -> MotoServer {
        guard let executable = findExecutable("moto_server") else {
            throw MotoError("moto_server is not installed: pip install 'moto[server]==5.2.1'")
        }
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // The shell becomes the server (exec), so the exit handler reaches it directly. A watchdog
        // beside it stops the server should this test process die without exiting cleanly:
        // it notices that the server's parent is no longer this process (reading /proc, since
        // a dead parent stays a zombie until reaped).
        let watchdog = "while kill -0 $$ 2>/dev/null; do set -- $(cat /proc/$$/stat); [ \"$4\" = \"\(getpid())\" ] || { kill -KILL $$; break; }; sleep 1; done"
        process.arguments = ["-c", "(\(watchdog)) >/dev/null 2>&1 & exec \"$0\" -H 127.0.0.1 -p \(port)", executable]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        try process.run()
        registerForExit(process)
        let server = MotoServer(port: port, process: process)
        try await server.waitUntilReady()
        return server
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

    private func waitUntilReady() async throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let (_, response) = try? await URLSession.shared.data(from: endpoint.appendingPathComponent("moto-api/")),
               (response as? HTTPURLResponse)?.statusCode == 200 {
                return
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw MotoError("moto_server did not answer on port \(port) within 30 s")
    }

    private static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A port the kernel says is free right now.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MotoError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw MotoError("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw MotoError("getsockname failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct MotoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Processes to stop when the test process exits.
private nonisolated(unsafe) var serversToStop: [Process] = []
private let serversLock = NSLock()

private func registerForExit(_ process: Process) {
    serversLock.lock()
    defer { serversLock.unlock() }
    if serversToStop.isEmpty {
        atexit {
            serversLock.lock()
            // SIGKILL: the server may have inherited an ignored SIGTERM, and it keeps nothing.
            for process in serversToStop where process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
            serversLock.unlock()
        }
    }
    serversToStop.append(process)
}
