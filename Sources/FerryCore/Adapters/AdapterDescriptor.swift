/// What an adapter is and what it can do: enough for `ferry adapters`, for checking a recipe
/// against capabilities before it runs, and for errors that say what is missing.
public struct AdapterDescriptor: Codable, Hashable, Sendable {
    public var name: String
    public var kind: AdapterKind
    public var version: String
    public var summary: String
    public var capabilities: [Capability]
    public var options: [AdapterOption]
    public var availability: AdapterAvailability

    public init(
        name: String, kind: AdapterKind, version: String, summary: String,
        capabilities: [Capability], options: [AdapterOption] = [],
        availability: AdapterAvailability = .available
    ) {
        self.name = name
        self.kind = kind
        self.version = version
        self.summary = summary
        self.capabilities = capabilities
        self.options = options
        self.availability = availability
    }

    public func option(named name: String) -> AdapterOption? {
        options.first { $0.name == name }
    }
}

public enum AdapterKind: String, Codable, Hashable, Sendable, CaseIterable {
    case source
    case target
}

/// Whether an adapter's work is built. A registered adapter that is not yet built says so
/// here and refuses work with `AdapterError.unavailable`; it is never presented as working.
public enum AdapterAvailability: Codable, Hashable, Sendable {
    case available
    case unavailable(reason: String)

    public var isAvailable: Bool {
        if case .available = self { return true }
        return false
    }
}
