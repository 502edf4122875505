import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A server a test starts on a port of 127.0.0.1 (moto, `python3 -m http.server`): running
/// and answering once made, killed with `stop()` or, at the latest, when the test process
/// exits.
public final class LocalServerProcess: @unchecked Sendable {
    public let process: Process
    public let port: Int
    public var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts `process` (configured, not yet run) and waits until `GET readyPath` on `port`
    /// answers 200, for `timeout` seconds at most. Blocking: see `startOnItsOwnThread`.
    public static func start(_ process: Process, port: Int, readyPath: String, timeout: TimeInterval, name: String) throws -> LocalServerProcess {
        try process.run()
        Self.stopAtExit(process)
        let server = LocalServerProcess(process: process, port: port)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, process.isRunning {
            if LocalPort.answers200(port: port, path: readyPath) { return server }
            usleep(100_000)
        }
        server.stop()
        throw Failure(description: "\(name) did not answer on port \(port) within \(Int(timeout)) s")
    }

    /// Runs `start` on a thread of its own: tests that block the few threads Swift
    /// concurrency shares must not make a server look slow to start.
    public static func startOnItsOwnThread(_ start: @escaping @Sendable () throws -> LocalServerProcess) async throws -> LocalServerProcess {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try start() }) }.start()
        }
    }

    /// `python3 -m http.server` serving `directory` on a free port.
    public static func httpServer(serving directory: URL) async throws -> LocalServerProcess {
        try await startOnItsOwnThread {
            let port = try LocalPort.free()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory.path, String(port)]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return try start(process, port: port, readyPath: "/", timeout: 30, name: "python3 -m http.server")
        }
    }

    /// SIGKILL (the servers tests start keep nothing, and may have inherited an ignored
    /// SIGTERM), then reaps it; the wait is bounded, since Foundation may reap the child itself.
    public func stop() {
        let pid = process.processIdentifier
        kill(pid, SIGKILL)
        var status: Int32 = 0
        for _ in 0..<50 {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || reaped < 0 { return }
            usleep(100_000)
        }
    }

    private nonisolated(unsafe) static var running: [Process] = []
    private static let runningLock = NSLock()

    /// Kills `process` when the test process exits, should the test not have stopped it.
    private static func stopAtExit(_ process: Process) {
        runningLock.lock()
        defer { runningLock.unlock() }
        if running.isEmpty {
            atexit {
                LocalServerProcess.runningLock.lock()
                for process in LocalServerProcess.running where process.isRunning { kill(process.processIdentifier, SIGKILL) }
                LocalServerProcess.runningLock.unlock()
            }
        }
        running.append(process)
    }
}
