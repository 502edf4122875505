import FerryCore
/// Checks a loaded recipe before anything runs: known actions, inputs of the right type,
/// references to parameters that exist and to outputs of earlier steps, parameter values.
public struct RecipeValidator: Sendable {
    public let actions: RecipeActionRegistry

    public init(actions: RecipeActionRegistry) {
        self.actions = actions
    }

    /// Throws `RecipeError.invalid` listing every problem found.
    public func validate(_ recipe: Recipe) throws {
        var problems: [RecipeProblem] = []
        var seen: [String: Int] = [:]
        var outputsByStep: [String: [String]] = [:]
        let positions = Dictionary(recipe.steps.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })

        for (index, step) in recipe.steps.enumerated() {
            let field = "steps[\(index)]"
            if let previous = seen[step.id] {
                problems.append(RecipeProblem(location: step.location, field: "\(field).id", message: "'\(step.id)' is already the id of steps[\(previous)]"))
            }
            seen[step.id] = index
            guard let action = actions.action(named: step.action) else {
                problems.append(RecipeProblem(location: step.actionLocation, field: "\(field).action", message: "unknown action '\(step.action)' (known: \(actions.names.joined(separator: ", ")))"))
                continue
            }
            outputsByStep[step.id] = action.outputs
            problems += check(inputs: step.inputs, locations: step.inputLocations, fallback: step.location, field: "\(field).inputs",
                              action: action, recipe: recipe, stepIndex: index, positions: positions, outputsByStep: outputsByStep)
            for (checkIndex, check) in step.checks.enumerated() {
                let checkField = "\(field).checks[\(checkIndex)]"
                guard let checkAction = actions.action(named: check.action) else {
                    problems.append(RecipeProblem(location: check.location, field: "\(checkField).action", message: "unknown action '\(check.action)'"))
                    continue
                }
                // A check runs after its step, so it may use the step's own outputs.
                var visible = outputsByStep
                visible[step.id] = action.outputs
                problems += self.check(inputs: check.inputs, locations: [:], fallback: check.location, field: "\(checkField).inputs",
                                       action: checkAction, recipe: recipe, stepIndex: index + 1, positions: positions, outputsByStep: visible)
            }
        }
        if !problems.isEmpty { throw RecipeError.invalid(file: recipe.file, problems: problems) }
    }

    private func check(inputs: [String: RecipeInput], locations: [String: RecipeLocation], fallback: RecipeLocation, field: String,
                       action: any RecipeAction, recipe: Recipe, stepIndex: Int, positions: [String: Int], outputsByStep: [String: [String]]) -> [RecipeProblem] {
        var problems: [RecipeProblem] = []
        let declared = Dictionary(uniqueKeysWithValues: action.inputs.map { ($0.name, $0) })
        for spec in action.inputs where spec.isRequired && inputs[spec.name] == nil {
            problems.append(RecipeProblem(location: fallback, field: "\(field).\(spec.name)", message: "is required by \(action.name): \(spec.help)"))
        }
        for (name, input) in inputs.sorted(by: { $0.key < $1.key }) {
            let location = locations[name] ?? fallback
            guard let spec = declared[name] else {
                problems.append(RecipeProblem(location: location, field: "\(field).\(name)", message: "\(action.name) takes no input '\(name)' (it takes: \(action.inputs.map(\.name).joined(separator: ", ")))"))
                continue
            }
            for reference in input.references {
                switch reference {
                case .parameter(let parameter):
                    if recipe.parameter(parameter) == nil {
                        problems.append(RecipeProblem(location: location, field: "\(field).\(name)", message: "\(reference) refers to no parameter (parameters: \(recipe.parameters.map(\.name).joined(separator: ", ")))"))
                    }
                case .output(let step, let output):
                    guard let position = positions[step] else {
                        problems.append(RecipeProblem(location: location, field: "\(field).\(name)", message: "\(reference) refers to no step '\(step)'"))
                        continue
                    }
                    guard position < stepIndex else {
                        // A step cannot wait for itself or for a later step: that would be a cycle.
                        problems.append(RecipeProblem(location: location, field: "\(field).\(name)", message: "\(reference) refers to a step that runs at or after this one (a cycle)"))
                        continue
                    }
                    if let outputs = outputsByStep[step], !outputs.contains(output) {
                        problems.append(RecipeProblem(location: location, field: "\(field).\(name)", message: "\(reference): step '\(step)' has no output '\(output)' (it has: \(outputs.joined(separator: ", ")))"))
                    }
                }
            }
            if let type = staticType(of: input, recipe: recipe), spec.type != .any, type != spec.type {
                problems.append(RecipeProblem(location: location, field: "\(field).\(name)", message: "must be a \(spec.type.rawValue), not a \(type.rawValue)"))
            }
        }
        return problems
    }

    /// The type an input will have, when it is known before running.
    private func staticType(of input: RecipeInput, recipe: Recipe) -> RecipeValueType? {
        switch input {
        case .literal(let value): return value.type
        case .template: return .string
        case .list: return .list
        case .map: return .map
        case .reference(.parameter(let name)): return recipe.parameter(name)?.type
        case .reference(.output): return nil
        }
    }

    /// The parameter values for a run: defaults, overridden by `given` (parsed to each
    /// parameter's type); unknown or missing parameters are errors.
    /// The parameters `recipe` takes, one a line with type, default and help, for an error
    /// about a parameter it does not take.
    public static func parameterList(of recipe: Recipe) -> String {
        guard !recipe.parameters.isEmpty else { return "it takes no parameters" }
        let lines = recipe.parameters.map { p in
            "  --param \(p.name)=\(p.type.rawValue.uppercased())\(p.defaultValue.map { " (default \($0))" } ?? " (required)"): \(p.help)"
        }
        return "it takes:\n" + lines.joined(separator: "\n")
    }

    public static func resolveParameters(_ recipe: Recipe, given: [String: String]) throws -> [String: RecipeValue] {
        var values: [String: RecipeValue] = [:]
        for (name, text) in given {
            guard let parameter = recipe.parameter(name) else {
                throw RecipeError.parameter(name: name, reason: "recipe '\(recipe.name)' has no such parameter; \(parameterList(of: recipe))")
            }
            guard let value = RecipeValue.parse(text, as: parameter.type) else {
                throw RecipeError.parameter(name: name, reason: "'\(text)' is not a \(parameter.type.rawValue)")
            }
            values[name] = value
        }
        for parameter in recipe.parameters where values[parameter.name] == nil {
            guard let fallback = parameter.defaultValue else {
                throw RecipeError.parameter(name: parameter.name, reason: "is required: \(parameter.help) (give it with --param \(parameter.name)=VALUE)")
            }
            values[parameter.name] = fallback
        }
        return values
    }
}
