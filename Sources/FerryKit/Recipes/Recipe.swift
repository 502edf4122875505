import FerryCore
/// A guided, resumable run: parameters, then steps, each an action with inputs and checks.
public struct Recipe: Sendable {
    public var name: String
    /// The title in English: what lists, plans and errors show.
    public var title: String
    /// The title by language code, written either as one string (English) or as a map like
    /// the explanations (`title: {en: …, ja: …}`).
    public var titles: [String: String] = [:]
    public var description: String
    public var parameters: [RecipeParameter]
    public var steps: [RecipeStep]
    /// The file it was loaded from, for errors.
    public var file: String

    public func title(in language: String) -> String { titles[language] ?? title }

    public func step(_ id: String) -> RecipeStep? { steps.first { $0.id == id } }
    public func parameter(_ name: String) -> RecipeParameter? { parameters.first { $0.name == name } }
}

/// Where something is in a recipe file.
public struct RecipeLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var description: String { "\(file):\(line):\(column)" }
}

public struct RecipeParameter: Sendable {
    public var name: String
    public var type: RecipeValueType
    public var defaultValue: RecipeValue?
    public var help: String
    public var location: RecipeLocation
}

/// Which environment a step acts on: the target cloud, or the source side (the machines
/// being migrated; on the workshop, the "other infrastructure" that hosts WordPress).
public enum RecipeEnvironment: String, Codable, Hashable, Sendable {
    case source
    case target
}

public struct RecipeStep: Sendable {
    public var id: String
    /// The title in English.
    public var title: String
    /// The title by language code (`title: {en: …, ja: …}`); a plain string is English only.
    public var titles: [String: String] = [:]
    /// Explanations for learners, by language code ("en", "ja").
    public var explanation: [String: String]
    public var action: String
    public var environment: RecipeEnvironment
    public var inputs: [String: RecipeInput]
    public var checks: [RecipeCheck]
    public var location: RecipeLocation
    /// Where the action is named, for errors.
    public var actionLocation: RecipeLocation
    /// Where each input is written, for errors.
    public var inputLocations: [String: RecipeLocation]

    public func title(in language: String) -> String { titles[language] ?? title }

    public func explanation(in language: String) -> String {
        explanation[language] ?? explanation["en"] ?? ""
    }

    /// A step's title as a list shows it: numbered by its position, unless the title already
    /// carries a number of its own (the workshop's titles follow the workshop's numbering,
    /// which groups several steps under one number): "1. 1. Networks" says it twice.
    public static func listed(_ title: String, position: Int) -> String {
        let digits = title.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, title.dropFirst(digits.count).hasPrefix(". ") { return title }
        return "\(position). \(title)"
    }
}

/// A check after a step: an action (usually `verify.*`) that must succeed.
public struct RecipeCheck: Sendable {
    public var action: String
    public var inputs: [String: RecipeInput]
    public var location: RecipeLocation
}

/// An input as written: a literal, a reference to a parameter or to an earlier step's
/// output (`${params.NAME}`, `${steps.ID.NAME}`), or text with references inside.
public indirect enum RecipeInput: Sendable {
    case literal(RecipeValue)
    case reference(RecipeReference)
    case template([TemplatePart])
    case list([RecipeInput])
    case map([String: RecipeInput])

    public enum TemplatePart: Sendable {
        case text(String)
        case reference(RecipeReference)
    }

    /// Every reference inside, depth first.
    public var references: [RecipeReference] {
        switch self {
        case .literal: return []
        case .reference(let r): return [r]
        case .template(let parts): return parts.compactMap { if case .reference(let r) = $0 { return r } else { return nil } }
        case .list(let items): return items.flatMap(\.references)
        case .map(let entries): return entries.keys.sorted().flatMap { entries[$0]!.references }
        }
    }
}

public enum RecipeReference: Hashable, Sendable, CustomStringConvertible {
    case parameter(String)
    case output(step: String, name: String)

    public var description: String {
        switch self {
        case .parameter(let name): return "${params.\(name)}"
        case .output(let step, let name): return "${steps.\(step).\(name)}"
        }
    }
}
