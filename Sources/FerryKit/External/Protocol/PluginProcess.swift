import FerryCore
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

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
    private var reaped = false

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

    /// Starts `path` with no arguments and `FERRY_PLUGIN_PROTOCOL` set, in a process group of
    /// its own (so that stopping it also stops what it started); throws the reason.
    static func start(path: String, protocolVersion: Int) throws(PluginStartFailure) -> PluginProcess {
        guard let toChild = ChildProcessSetup.pipe() else { throw PluginStartFailure(errnoText("pipe")) }
        guard let fromChild = ChildProcessSetup.pipe() else {
            close(toChild.read); close(toChild.write)
            throw PluginStartFailure(errnoText("pipe"))
        }
        let stderrFile = ChildProcessSetup.anonymousFile(prefix: "ferry-plugin-stderr-", directory: NSTemporaryDirectory())
        guard stderrFile >= 0 else {
            [toChild.read, toChild.write, fromChild.read, fromChild.write].forEach { close($0) }
            throw PluginStartFailure(errnoText("mkstemp"))
        }
        // Appending, so that trimming the file (see `trimStderr`) restarts the plugin's writes at 0.
        _ = fcntl(stderrFile, F_SETFL, fcntl(stderrFile, F_GETFL) | O_APPEND)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild.read, 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrFile, 2)
        ChildProcessSetup.closeInheritedDescriptors(&actions)
        var environment = ProcessInfo.processInfo.environment
        environment["FERRY_PLUGIN_PROTOCOL"] = String(protocolVersion)
        let argv = [strdup(path)] + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = ChildProcessSetup.withAttributes(flags: POSIX_SPAWN_SETPGROUP) { attributes in
            posix_spawnattr_setpgroup(&attributes, 0)
            return posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        }
        close(toChild.read)
        close(fromChild.write)
        guard status == 0 else {
            close(toChild.write); close(fromChild.read); close(stderrFile)
            throw PluginStartFailure(String(cString: strerror(status)))
        }
        for fd in [toChild.write, fromChild.read] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            // Blocks are up to 4 MiB: a 1 MiB pipe (Linux's default limit for unprivileged
            // processes) instead of 64 KiB means a sixteenth of the wake-ups. Best effort.
            _ = fcntl(fd, 1031 /* F_SETPIPE_SZ */, Int32(1 << 20))
        }
        LivePluginProcesses.add(pid)
        return PluginProcess(pid: pid, input: toChild.write, output: fromChild.read, stderrFile: stderrFile)
    }

    /// Keeps the stderr file small: past 1 MiB, only its last 8 KiB are kept. A chatty plugin
    /// on a long migration would otherwise fill the temporary folder with an unlinked file.
    func trimStderr(limit: Int = 1 << 20) {
        var info = stat()
        guard fstat(stderrFile, &info) == 0, info.st_size > limit else { return }
        let tail = Array(stderrTail().utf8)
        _ = ftruncate(stderrFile, 0)
        _ = tail.withUnsafeBytes { Glibc.write(stderrFile, $0.baseAddress, $0.count) }
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

    /// How the process ended, when it has ended (reaping it). What it started goes with it:
    /// its process group is killed first, while the unreaped process still holds the
    /// group's id (after reaping, that number could name someone else's group).
    func exitedStatus() -> String? {
        if let exitStatus, reaped { return exitStatus }
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info._sifields._sigchld.si_pid == pid else { return nil }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        LivePluginProcesses.remove(pid)
        if exitStatus == nil { exitStatus = Self.describe(status: status) }
        return exitStatus
    }

    /// Waits up to `grace` seconds for the process to end by itself, then kills its whole
    /// process group; returns how it ended. It never waits more than two seconds after the
    /// kill: a process stuck in the kernel (a hung NFS read) must not hang Ferry too.
    @discardableResult
    func terminate(grace: Double) -> String {
        if let status = waitForExit(seconds: grace) { return status }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        // Set before reaping, so that the reaped status (killed by signal 9) does not replace it.
        exitStatus = "killed by Ferry"
        _ = waitForExit(seconds: 2)
        return "killed by Ferry"
    }

    private func waitForExit(seconds: Double) -> String? {
        let deadline = Deadline(seconds: seconds)
        while true {
            if let status = exitedStatus() { return status }
            if deadline.remainingMilliseconds == 0 { return nil }
            usleep(5_000)
        }
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

/// The plugin processes started and not reaped yet. When Ferry exits, each one's stdin
/// closes and a plugin that keeps the protocol ends by itself; one that does not is sent
/// SIGTERM, with its process group, so that no plugin outlives the Ferry that started it.
enum LivePluginProcesses {
    private static let pids = Mutex<Set<pid_t>>([])
    private static let registerExitHandler: Void = {
        atexit { LivePluginProcesses.terminateAll() }
    }()

    static func add(_ pid: pid_t) {
        registerExitHandler
        pids.withLock { _ = $0.insert(pid) }
    }

    static func remove(_ pid: pid_t) {
        pids.withLock { _ = $0.remove(pid) }
    }

    static func terminateAll() {
        for pid in pids.withLock({ $0 }) {
            kill(-pid, SIGTERM)
        }
    }
}
