import FerryCore
/// One thing wrong with a recipe, with where it is.
public struct RecipeProblem: Hashable, Sendable, CustomStringConvertible {
    public var location: RecipeLocation
    /// The field, as a path: `steps[2].inputs.cidr`.
    public var field: String
    public var message: String

    public var description: String { "\(location): \(field): \(message)" }
}

public enum RecipeError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalid(file: String, problems: [RecipeProblem])
    case notFound(name: String, searched: [String])
    case unreadable(file: String, reason: String)
    case parameter(name: String, reason: String)
    case runNotFound(String)
    case stepFailed(run: String, step: String, reason: String)
    case checkFailed(step: String, check: String, reason: String)
    case missingCapability(step: String, action: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let file, let problems):
            let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
            return "recipe \(file) has \(count):\n" + problems.map { "  \($0)" }.joined(separator: "\n")
        case .notFound(let name, let searched):
            return "no recipe '\(name)' (looked in \(searched.joined(separator: ", "))); `ferry recipe list` shows the recipes"
        case .unreadable(let file, let reason):
            return "cannot read recipe \(file): \(reason)"
        case .parameter(let name, let reason):
            return "parameter '\(name)': \(reason)"
        case .runNotFound(let id):
            return "no recipe run '\(id)' in this workspace (see `ferry recipe status`)"
        case .stepFailed(let run, let step, let reason):
            return "run \(run) stopped at step '\(step)': \(reason); fix the cause and `ferry recipe resume \(run)`"
        case .checkFailed(let step, let check, let reason):
            return "step '\(step)': check \(check) failed: \(reason)"
        case .missingCapability(let step, let action, let reason):
            return "step '\(step)' (\(action)) cannot run on this target: \(reason)"
        }
    }
}
