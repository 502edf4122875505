import FerryCore
/// A value in a recipe: a parameter, an input, an output. What YAML can say, typed.
public enum RecipeValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case list([RecipeValue])
    case map([String: RecipeValue])

    public var type: RecipeValueType {
        switch self {
        case .string: return .string
        case .integer: return .integer
        case .boolean: return .boolean
        case .list: return .list
        case .map: return .map
        }
    }

    public var description: String {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .boolean(let b): return String(b)
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries): return "{" + entries.keys.sorted().map { "\($0): \(entries[$0]!)" }.joined(separator: ", ") + "}"
        }
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var integer: Int? { if case .integer(let i) = self { return i } else { return nil } }
    public var boolean: Bool? { if case .boolean(let b) = self { return b } else { return nil } }
    public var list: [RecipeValue]? { if case .list(let l) = self { return l } else { return nil } }
    public var map: [String: RecipeValue]? { if case .map(let m) = self { return m } else { return nil } }

    /// Parses a command-line value (`--param K=V`) as `type`.
    public static func parse(_ text: String, as type: RecipeValueType) -> RecipeValue? {
        switch type {
        case .string, .any: return .string(text)
        case .integer: return Int(text).map(RecipeValue.integer)
        case .boolean:
            switch text.lowercased() {
            case "true", "yes": return .boolean(true)
            case "false", "no": return .boolean(false)
            default: return nil
            }
        case .list: return .list(text.split(separator: ",").map { .string(String($0)) })
        case .map: return nil
        }
    }
}

public enum RecipeValueType: String, Codable, Hashable, Sendable, CaseIterable {
    case string, integer, boolean, list, map, any

    public func accepts(_ value: RecipeValue) -> Bool {
        self == .any || value.type == self
    }
}

extension RecipeValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let b = try? container.decode(Bool.self) { self = .boolean(b) }
        else if let i = try? container.decode(Int.self) { self = .integer(i) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let l = try? container.decode([RecipeValue].self) { self = .list(l) }
        else { self = .map(try container.decode([String: RecipeValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .integer(let i): try container.encode(i)
        case .boolean(let b): try container.encode(b)
        case .list(let l): try container.encode(l)
        case .map(let m): try container.encode(m)
        }
    }
}
