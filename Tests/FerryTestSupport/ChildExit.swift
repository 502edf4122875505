import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Waits for a child started with Foundation's `Process` by reaping it with `waitpid` itself.
/// Foundation learns that a child ended from SIGCHLD; in a test process, where swift-testing's
/// main thread waits in `sigsuspend` with no signal blocked and no SIGCHLD handler installed,
/// that signal can be taken and dropped there, and `waitUntilExit()` then waits forever on a
/// zombie (seen after a `ferry recipe run` that failed, its replication server and QEMU left
/// running). `waitpid` on the child's pid cannot miss it.
public enum ChildExit {
    /// The exit status (128 + the signal for a child killed by one).
    public static func wait(for process: Process) -> Int32 {
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(process.processIdentifier, &status, 0) } while reaped < 0 && errno == EINTR
        guard reaped == process.processIdentifier else {
            // Foundation reaped it first: it has the status.
            process.waitUntilExit()
            return process.terminationStatus
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
