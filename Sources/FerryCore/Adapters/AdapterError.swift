/// Errors about adapters themselves (not about the work they do).
public enum AdapterError: Error, Hashable, Sendable, CustomStringConvertible {
    case duplicateName(String)
    case notFound(name: String, known: [String])
    case wrongKind(adapter: String, is: AdapterKind, wanted: AdapterKind)
    case missingCapability(adapter: String, capability: Capability, has: [Capability], providedBy: [String])
    case capabilityMismatch(adapter: String, capability: Capability, reason: String)
    case unavailable(adapter: String, reason: String)
    case unknownOption(adapter: String, option: String, known: [String])
    case invalidOptionValue(adapter: String, option: String, value: String, expected: String)
    case missingOption(adapter: String, option: String, help: String)

    public var description: String {
        switch self {
        case .duplicateName(let name):
            return "an adapter named '\(name)' is already registered"
        case .notFound(let name, let known):
            return "no adapter named '\(name)' (known: \(known.joined(separator: ", ")))"
        case .wrongKind(let adapter, let kind, let wanted):
            return "adapter '\(adapter)' is a \(kind.rawValue) adapter, but a \(wanted.rawValue) adapter is needed here"
        case .missingCapability(let adapter, let capability, let has, let providedBy):
            let hasText = has.isEmpty ? "none" : has.map(\.rawValue).joined(separator: ", ")
            let others = providedBy.isEmpty
                ? "no registered adapter provides it"
                : "adapters that provide it: \(providedBy.joined(separator: ", "))"
            return "adapter '\(adapter)' lacks the '\(capability.rawValue)' capability (it has: \(hasText)); \(others)"
        case .capabilityMismatch(let adapter, let capability, let reason):
            return "adapter '\(adapter)' declares '\(capability.rawValue)' but \(reason)"
        case .unavailable(let adapter, let reason):
            return "adapter '\(adapter)' is registered but not available: \(reason)"
        case .unknownOption(let adapter, let option, let known):
            let list = known.isEmpty ? "it takes no options" : "known: \(known.joined(separator: ", "))"
            return "adapter '\(adapter)' has no option '\(option)' (\(list))"
        case .invalidOptionValue(let adapter, let option, let value, let expected):
            return "adapter '\(adapter)': option '\(option)' must be \(expected), not '\(value)'"
        case .missingOption(let adapter, let option, let help):
            return "adapter '\(adapter)' needs option '\(option)': \(help)"
        }
    }
}
