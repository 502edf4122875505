import FerryCore
import Foundation

/// Something a recipe step does, written against target capabilities — never against one
/// adapter — so that the same recipe runs on the sandbox and on an AWS-style cloud.
public protocol RecipeAction: Sendable {
    /// "network.create-vpc", "verify.http", …
    var name: String { get }
    var summary: String { get }
    var inputs: [RecipeActionInput] { get }
    var outputs: [String] { get }
    /// What the environment the step runs on must offer.
    var requiredCapabilities: [Capability] { get }

    /// What the step would do, in words, for `ferry recipe plan`; nothing is touched.
    func plan(_ inputs: RecipeInputs) -> [String]

    /// Does the work. Every cloud resource must be recorded with `context.created(_:)` as
    /// soon as it exists, so that `destroy` finds it even after a crash.
    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue]
}

public struct RecipeActionInput: Sendable {
    public var name: String
    public var type: RecipeValueType
    public var isRequired: Bool
    public var defaultValue: RecipeValue?
    public var help: String

    public init(_ name: String, _ type: RecipeValueType, required: Bool = true, default defaultValue: RecipeValue? = nil, help: String) {
        self.name = name
        self.type = type
        self.isRequired = required && defaultValue == nil
        self.defaultValue = defaultValue
        self.help = help
    }
}

/// An action's inputs, resolved and type-checked.
public struct RecipeInputs: Sendable {
    public var values: [String: RecipeValue]

    public init(_ values: [String: RecipeValue]) {
        self.values = values
    }

    public subscript(_ name: String) -> RecipeValue? { values[name] }

    public func string(_ name: String) throws -> String {
        guard let value = values[name] else { throw RecipeInputError.missing(name) }
        return value.string ?? value.description
    }

    public func optionalString(_ name: String) -> String? { values[name].map { $0.string ?? $0.description } }

    public func integer(_ name: String) throws -> Int {
        guard let value = values[name]?.integer else { throw RecipeInputError.missing(name) }
        return value
    }

    public func boolean(_ name: String, default fallback: Bool) -> Bool { values[name]?.boolean ?? fallback }

    public func strings(_ name: String) -> [String] {
        values[name]?.list?.map { $0.string ?? $0.description } ?? []
    }

    public func tags(_ name: String) -> ResourceTags {
        (values[name]?.map ?? [:]).mapValues { $0.string ?? $0.description }
    }
}

public enum RecipeInputError: Error, Hashable, Sendable, CustomStringConvertible {
    case missing(String)
    case invalid(name: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let name): return "input '\(name)' is missing"
        case .invalid(let name, let reason): return "input '\(name)': \(reason)"
        }
    }
}

/// The actions recipes may use, by name.
public struct RecipeActionRegistry: Sendable {
    private var actions: [String: any RecipeAction] = [:]

    public init(_ actions: [any RecipeAction] = []) {
        for action in actions { self.actions[action.name] = action }
    }

    public mutating func register(_ action: any RecipeAction) {
        actions[action.name] = action
    }

    public func action(named name: String) -> (any RecipeAction)? { actions[name] }

    public var names: [String] { actions.keys.sorted() }
}
