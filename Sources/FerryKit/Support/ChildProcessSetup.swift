import FerryCore
#if canImport(Glibc)
import Glibc
#endif

/// What every process Ferry starts gets, whatever thread starts it: no blocked signals and
/// the default action for the signals Ferry itself ignores. Threads of Swift's concurrency
/// pool block most signals, and Ferry ignores SIGPIPE; a child that inherited either would
/// not stop on SIGTERM, never see its alarms, or get EPIPE in its shell pipelines.
enum ChildProcessSetup {
    /// Calls `body` with spawn attributes that reset the signal mask and dispositions, plus
    /// `flags` (POSIX_SPAWN_SETSID, POSIX_SPAWN_SETPGROUP, …).
    static func withAttributes<R>(flags: Int32, _ body: (inout posix_spawnattr_t) throws -> R) rethrows -> R {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(flags | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return try body(&attributes)
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    nonisolated(unsafe) private static let closeFromFunction: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: CloseFrom.self) }

    /// Makes the child inherit no descriptor beyond stdin, stdout and stderr (glibc's
    /// posix_spawn_file_actions_addclosefrom_np, behind _GNU_SOURCE too). A process that
    /// outlives its starter (a replication server) and kept one of the starter's pipes open
    /// would hide that pipe's end-of-file from whoever reads it, for as long as it runs.
    static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        _ = closeFromFunction?(&actions, 3)
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    private typealias Mkostemp = @convention(c) (UnsafeMutablePointer<CChar>, Int32) -> Int32

    // glibc has pipe2 and mkostemp, but Swift's Glibc module does not show them (they sit
    // behind _GNU_SOURCE); they are looked up once instead.
    nonisolated(unsafe) private static let pipe2Function: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }
    nonisolated(unsafe) private static let mkostempFunction: Mkostemp? = dlsym(nil, "mkostemp").map { unsafeBitCast($0, to: Mkostemp.self) }

    /// A pipe whose both ends are close-on-exec from the start, so that no process started
    /// meanwhile by another thread inherits them (which would hide end-of-file forever).
    static func pipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        let status = fds.withUnsafeMutableBufferPointer { buffer -> Int32 in
            if let pipe2Function { return pipe2Function(buffer.baseAddress!, O_CLOEXEC) }
            let status = Glibc.pipe(buffer.baseAddress!)
            if status == 0 { for fd in buffer { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) } }
            return status
        }
        return status == 0 ? (fds[0], fds[1]) : nil
    }

    /// A new temporary file, close-on-exec, already unlinked.
    static func anonymousFile(prefix: String, directory: String) -> Int32 {
        var template = Array("\(directory)/\(prefix)XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            if let mkostempFunction { return mkostempFunction(buffer.baseAddress!, O_CLOEXEC) }
            let fd = mkstemp(buffer.baseAddress!)
            if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return fd
        }
        if fd >= 0 {
            let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            unlink(path)
        }
        return fd
    }
}
