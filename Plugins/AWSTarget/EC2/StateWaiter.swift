import Foundation

/// Polls until a condition holds, or gives up after a timeout with an error naming what it
/// waited for.
struct StateWaiter: Sendable {
    var interval: Double
    var timeout: Double

    func wait(for what: String, until condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        // Start quickly: many state changes are fast, and a poll is cheap.
        var delay = min(0.05, interval)
        while true {
            if try await condition() { return }
            guard Date() < deadline else { throw WaitTimeoutError(what: what, seconds: timeout) }
            try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            delay = min(interval, delay * 2)
        }
    }
}

public struct WaitTimeoutError: Error, Hashable, Sendable, CustomStringConvertible {
    public var what: String
    public var seconds: Double
    public var description: String { "gave up waiting for \(what) after \(Int(seconds)) s" }
}
