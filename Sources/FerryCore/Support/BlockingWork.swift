import Foundation

/// Runs a blocking call (a child process waited for, a pipe read with a deadline, a database
/// transaction, a QEMU guest started or stopped) on a thread of its own, and lets the async
/// caller await it.
///
/// Swift's cooperative pool has one thread per core (two on a small machine): a task that
/// blocks one of them in `waitpid`, `poll`, `usleep` or a long `pwrite` takes half of every
/// other task's threads away, and a replication server's accept loop beside it can go
/// unanswered for seconds. Each call gets a new thread rather than a slot in a fixed pool,
/// because these calls can wait for a long time (a plugin's deadline, a guest's boot) and a
/// fixed pool of them would starve itself the same way; starting a thread costs tens of
/// microseconds, nothing beside calls that take milliseconds to minutes. Per-block work in a
/// hot loop belongs on a pool of reused threads instead (FerryKit uses NIO's).
public enum BlockingWork {
    /// Runs `body` on a new thread and returns what it returns, or throws what it throws.
    /// The calling task is suspended, not blocked, meanwhile; cancelling it does not
    /// interrupt `body` (a half-finished write or wait is worse than a late one).
    public static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let thread = Thread {
                continuation.resume(with: Swift.Result { try body() })
            }
            thread.name = "ferry-blocking"
            thread.start()
        }
    }

    /// `run` for a body that throws nothing.
    public static func run<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
            let thread = Thread {
                continuation.resume(returning: body())
            }
            thread.name = "ferry-blocking"
            thread.start()
        }
    }
}
