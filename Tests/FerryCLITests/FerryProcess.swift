import Foundation
import FerryTestSupport

/// Runs the built `ferry` executable as a user would, and captures what it prints.
struct FerryProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `ferry` binary next to the test bundle in the build folder.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ferry")
    }

    /// Runs `ferry` to its end; one that has not ended after `timeoutSeconds` is killed and
    /// the test fails with what it printed. Recipe runs and image builds that boot guests
    /// say so with `slow` (a Debian workshop takes 8 minutes under emulation).
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil, timeoutSeconds: Int = 600) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "FERRY_WORKSPACE")
        env.merge(environment) { $1 }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let collected = try ChildOutput.collect(process, output: out, errors: err, timeoutSeconds: timeoutSeconds)
        return Result(status: collected.status, stdout: String(decoding: collected.stdout, as: UTF8.self), stderr: String(decoding: collected.stderr, as: UTF8.self))
    }

    /// The time limit of a command that builds or boots guests.
    static let slow = 1800

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-cli-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// `ferry replication-server` on a free port of 127.0.0.1, started and listening.
struct ReplicationServerProcess {
    let process: Process
    let port: Int

    /// On `port` (0: a free one).
    init(workspace: String, port wanted: Int = 0) throws {
        process = Process()
        process.executableURL = FerryProcess.executable
        process.arguments = ["replication-server", "--workspace", workspace, "--listen", "127.0.0.1:\(wanted)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = ""
        while !seen.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw CocoaError(.fileReadUnknown) }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        let address = seen.components(separatedBy: " on ")[1].components(separatedBy: " ")[0]
        port = Int(address.split(separator: ":").last!)!
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
