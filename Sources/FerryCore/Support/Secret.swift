/// A secret value (an access key's secret, an agent token) that never prints itself, so
/// that it cannot end up in a log line, an error or `--output json` by accident.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The secret itself: call this only where it must be shown or used.
    public func reveal() -> String { value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

// `dump()` and reflection would otherwise show the stored value.
extension Secret: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
