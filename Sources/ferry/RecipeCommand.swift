import ArgumentParser
import FerryCore
import FerryKit

struct RecipeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipe",
        abstract: "Guided, resumable, destroyable runs: the workshop and the consultants' recipes.",
        subcommands: [
            RecipeListCommand.self, RecipeShowCommand.self, RecipePlanCommand.self, RecipeRunCommand.self,
            RecipeStatusCommand.self, RecipeResumeCommand.self, RecipeDestroyCommand.self, RecipeDiagramCommand.self,
        ]
    )
}

/// Options shared by the commands that start runs.
struct RecipeTargetOptions: ParsableArguments {
    @Option(help: "The target adapter (sandbox, aws).")
    var target = "sandbox"

    @Option(help: "The adapter that hosts the source machines (the workshop's 'other infrastructure').")
    var source = "sandbox"

    @OptionGroup var parameterOptions: RecipeParameterOptions

    /// The adapters a run of `recipe` with these options uses (`nil`: not known before it runs).
    func adapterNames(of recipe: Recipe) throws -> Set<String>? {
        // Parameters that do not resolve are the run's own error to report; until then,
        // an adapter named through one is simply not known.
        let values = (try? RecipeValidator.resolveParameters(recipe, given: try parsedParameters(for: recipe))) ?? [:]
        return recipe.adapterNames(source: source, target: target, parameters: values)
    }

    func parsedParameters(for recipe: Recipe) throws -> [String: String] {
        try parameterOptions.parsed(for: recipe)
    }
}

/// `--param NAME=VALUE`, for every command that starts or plans a run.
struct RecipeParameterOptions: ParsableArguments {
    @Option(name: .customLong("param"), help: ArgumentHelp("A recipe parameter; repeat for more.", valueName: "name=value"))
    var parameters: [String] = []

    /// The `--param`s as names and texts. A malformed one is refused with the parameters
    /// `recipe` takes: a usage error here would print only the generic usage of `ferry`.
    func parsed(for recipe: Recipe) throws -> [String: String] {
        var result: [String: String] = [:]
        for text in parameters {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw RecipeError.parameter(name: text, reason: "--param must be NAME=VALUE; \(RecipeValidator.parameterList(of: recipe))")
            }
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return result
    }
}
