import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program of the host (mke2fs, qemu-img, QEMU itself) and collects what it printed.
/// It spawns with posix_spawn and waits with waitpid rather than using Foundation's Process,
/// whose pipes and bookkeeping descriptors a daemonizing child (QEMU) would keep open.
enum HostCommand {
    struct Result {
        var status: Int32
        var output: String
    }

    /// The full path of `tool` on PATH (and the sbin folders, where Debian puts mke2fs).
    static func find(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let folders = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for folder in folders {
            let candidate = folder + "/" + tool
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// `tool`'s path, or `SandboxError.toolMissing` naming the Debian package to install.
    static func require(_ tool: String, package: String, purpose: String) throws -> String {
        guard let path = find(tool) else { throw SandboxError.toolMissing(tool: tool, package: package, purpose: purpose) }
        return path
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np, so that the child inherits no
    /// descriptor beyond stdin, stdout and stderr (not imported: it needs _GNU_SOURCE).
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Runs `executable` with `arguments`, stdin from /dev/null; stdout and stderr together in `output`.
    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-command-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = addCloseFrom?(&actions, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The child starts with no blocked signals and default handlers, whatever this thread has.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else {
            throw SandboxError.commandFailed(command: executable, status: -1, output: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let output = FileManager.default.contents(atPath: outputPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Result(status: exitCode, output: output)
    }

    /// Runs and throws `SandboxError.commandFailed` unless the exit status is 0.
    @discardableResult
    static func check(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try run(executable, arguments)
        guard result.status == 0 else {
            let name = (executable as NSString).lastPathComponent
            throw SandboxError.commandFailed(command: ([name] + arguments).joined(separator: " "), status: result.status, output: result.output)
        }
        return result.output
    }
}
