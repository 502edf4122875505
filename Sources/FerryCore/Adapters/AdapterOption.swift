/// One setting an adapter takes, with its type, default and help, so that `ferry adapters`
/// can document it and a bad value is refused before the adapter is used.
public struct AdapterOption: Codable, Hashable, Sendable {
    public var name: String
    public var type: AdapterOptionType
    public var defaultValue: String?
    public var isRequired: Bool
    public var help: String

    public init(name: String, type: AdapterOptionType, defaultValue: String? = nil, isRequired: Bool = false, help: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.isRequired = isRequired
        self.help = help
    }
}

public enum AdapterOptionType: Codable, Hashable, Sendable, CustomStringConvertible {
    case string
    case integer
    case boolean
    case path
    case choice([String])

    public var description: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .boolean: return "boolean"
        case .path: return "path"
        case .choice(let values): return values.joined(separator: "|")
        }
    }

    /// Whether `value` is acceptable for this type.
    public func accepts(_ value: String) -> Bool {
        switch self {
        case .string, .path: return true
        case .integer: return Int(value) != nil
        case .boolean: return ["true", "false"].contains(value.lowercased())
        case .choice(let values): return values.contains(value)
        }
    }
}

/// Option values given to an adapter, checked against its descriptor.
public struct AdapterConfiguration: Hashable, Sendable {
    public private(set) var values: [String: String]

    /// Validates `values` against `descriptor`'s options and fills in defaults.
    public init(_ values: [String: String] = [:], for descriptor: AdapterDescriptor) throws(AdapterError) {
        var resolved: [String: String] = [:]
        for (name, value) in values {
            guard let option = descriptor.option(named: name) else {
                throw .unknownOption(adapter: descriptor.name, option: name, known: descriptor.options.map(\.name))
            }
            guard option.type.accepts(value) else {
                throw .invalidOptionValue(adapter: descriptor.name, option: name, value: value, expected: option.type.description)
            }
            resolved[name] = value
        }
        for option in descriptor.options where resolved[option.name] == nil {
            if let fallback = option.defaultValue {
                resolved[option.name] = fallback
            } else if option.isRequired {
                throw .missingOption(adapter: descriptor.name, option: option.name, help: option.help)
            }
        }
        self.values = resolved
    }

    public subscript(_ name: String) -> String? { values[name] }

    public func integer(_ name: String) -> Int? { values[name].flatMap { Int($0) } }

    public func boolean(_ name: String) -> Bool? { values[name].map { $0.lowercased() == "true" } }
}
