#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A running plugin executable: its pid, a pipe to its stdin, a pipe from its stdout, and
/// its stderr in an unlinked temporary file, so that what it said before failing can be
/// shown without a thread draining it.
final class PluginProcess: @unchecked Sendable {
    let pid: pid_t
    /// Ferry's end of the plugin's stdin (non-blocking).
    private(set) var input: Int32
    /// Ferry's end of the plugin's stdout (non-blocking).
    let output: Int32
    private let stderrFile: Int32
    private var exitStatus: String?

    private init(pid: pid_t, input: Int32, output: Int32, stderrFile: Int32) {
        self.pid = pid
        self.input = input
        self.output = output
        self.stderrFile = stderrFile
    }

    deinit {
        _ = terminate(grace: 0)
        if input >= 0 { close(input) }
        close(output)
        close(stderrFile)
    }

    /// Starts `path` with no arguments and `FERRY_PLUGIN_PROTOCOL` set; throws the reason.
    static func start(path: String, protocolVersion: Int) throws(PluginStartFailure) -> PluginProcess {
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { throw PluginStartFailure(errnoText("pipe")) }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0]); close(toChild[1])
            throw PluginStartFailure(errnoText("pipe"))
        }
        var template = Array((NSTemporaryDirectory() + "/ferry-plugin-stderr-XXXXXX").utf8CString)
        let stderrFile = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard stderrFile >= 0 else {
            [toChild[0], toChild[1], fromChild[0], fromChild[1]].forEach { close($0) }
            throw PluginStartFailure(errnoText("mkstemp"))
        }
        unlink(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        // Ferry's ends must not leak into this or any other child.
        for fd in [toChild[1], fromChild[0], stderrFile, toChild[0], fromChild[1]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrFile, 2)
        var environment = ProcessInfo.processInfo.environment
        environment["FERRY_PLUGIN_PROTOCOL"] = String(protocolVersion)
        let argv = [strdup(path)] + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(toChild[0])
        close(fromChild[1])
        guard status == 0 else {
            close(toChild[1]); close(fromChild[0]); close(stderrFile)
            throw PluginStartFailure(String(cString: strerror(status)))
        }
        for fd in [toChild[1], fromChild[0]] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            // Blocks are up to 4 MiB: a 1 MiB pipe (Linux's default limit for unprivileged
            // processes) instead of 64 KiB means a sixteenth of the wake-ups. Best effort.
            _ = fcntl(fd, 1031 /* F_SETPIPE_SZ */, Int32(1 << 20))
        }
        return PluginProcess(pid: pid, input: toChild[1], output: fromChild[0], stderrFile: stderrFile)
    }

    /// The last `limit` bytes the plugin wrote on stderr.
    func stderrTail(limit: Int = 8192) -> String {
        var info = stat()
        guard fstat(stderrFile, &info) == 0, info.st_size > 0 else { return "" }
        let count = Int(min(Int64(limit), Int64(info.st_size)))
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(stderrFile, $0.baseAddress, count, off_t(info.st_size) - off_t(count)) }
        return String(decoding: bytes.prefix(max(got, 0)), as: UTF8.self)
    }

    /// Closes the plugin's stdin, which tells it to exit.
    func closeInput() {
        if input >= 0 { close(input); input = -1 }
    }

    /// How the process ended, when it has ended (reaping it).
    func exitedStatus() -> String? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        exitStatus = Self.describe(status: status)
        return exitStatus
    }

    /// Waits up to `grace` seconds for the process to end by itself, then kills it; returns
    /// how it ended.
    @discardableResult
    func terminate(grace: Double) -> String {
        let deadline = Date().addingTimeInterval(grace)
        while true {
            if let status = exitedStatus() { return status }
            if Date() >= deadline { break }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        exitStatus = "killed by Ferry"
        return exitStatus!
    }

    private static func describe(status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exit status \((status >> 8) & 0xff)" }
        return "killed by signal \(signal)"
    }

    static func errnoText(_ call: String) -> String {
        "\(call): \(String(cString: strerror(errno)))"
    }
}

struct PluginStartFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
