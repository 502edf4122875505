/// How often and how patiently a request is retried: exponential backoff with full jitter
/// (a random delay up to `base · 2^attempt`, capped), on throttling, 5xx and network errors.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.1, maxDelay: Double = 10) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let standard = RetryPolicy()

    /// The delay before retry number `attempt` (1 for the first retry).
    public func delay<G: RandomNumberGenerator>(beforeRetry attempt: Int, using generator: inout G) -> Double {
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(attempt, 30)))
        return Double.random(in: 0...ceiling, using: &generator)
    }

    public func delay(beforeRetry attempt: Int) -> Double {
        var generator = SystemRandomNumberGenerator()
        return delay(beforeRetry: attempt, using: &generator)
    }
}
