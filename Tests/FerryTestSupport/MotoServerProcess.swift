import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real `moto_server` (pip install 'moto[server]==5.2.1'), the AWS-compatible server, on a
/// free port of 127.0.0.1: the AWS target's tests and the workshop's `--target aws` test
/// start theirs here.
public enum MotoServerProcess {
    /// Starts a server and waits until it answers (on a thread of its own). `environment`
    /// adds to this process's (`INITIAL_NO_AUTH_ACTION_COUNT` to enforce authentication).
    public static func start(environment extra: [String: String] = [:]) async throws -> LocalServerProcess {
        try await LocalServerProcess.startOnItsOwnThread {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            guard let executable = path.split(separator: ":").map({ "\($0)/moto_server" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw LocalServerProcess.Failure(description: "moto_server is not installed: pip install 'moto[server]==5.2.1'")
            }
            let port = try LocalPort.free()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            // The shell becomes the server (exec), so that a kill reaches it directly. A
            // watchdog beside it stops the server should this test process die without
            // exiting cleanly: it notices that the server's parent is no longer this process
            // (reading /proc, since a dead parent stays a zombie until reaped).
            let watchdog = "while kill -0 $$ 2>/dev/null; do set -- $(cat /proc/$$/stat); [ \"$4\" = \"\(getpid())\" ] || { kill -KILL $$; break; }; sleep 1; done"
            process.arguments = ["-c", "(\(watchdog)) >/dev/null 2>&1 & exec \"$0\" -H 127.0.0.1 -p \(port)", executable]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            var environment = ProcessInfo.processInfo.environment
            environment["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
            for (key, value) in extra { environment[key] = value }
            process.environment = environment
            return try LocalServerProcess.start(process, port: port, readyPath: "/moto-api/", timeout: 60, name: "moto_server")
        }
    }
}
