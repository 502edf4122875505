import FerryCore
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Starts a process that outlives the command that started it (its own session, output to a
/// log file, no terminal), as recipes do for the replication server and the agent.
public enum BackgroundProcess {
    /// The running `ferry` executable.
    public static var ferryExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    public static func spawn(_ executable: String, _ arguments: [String], environment: [String: String] = [:], log: URL) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        ChildProcessSetup.closeInheritedDescriptors(&actions)
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        // POSIX_SPAWN_SETSID (glibc hides it behind _GNU_SOURCE): a session of its own, no terminal.
        let status = ChildProcessSetup.withAttributes(flags: 0x80) { posix_spawn(&pid, executable, &actions, &$0, argv, envp) }
        guard status == 0 else {
            throw RecipeInputError.invalid(name: "process", reason: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Whether `pid` is alive (and not a zombie waiting to be reaped).
    public static func isRunning(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        return kill(pid, 0) == 0
    }
}
