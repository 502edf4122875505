import ArgumentParser
import FerryCore
import FerryKit

struct RecipeShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a recipe's parameters, steps and explanations.")

    @Argument(help: "The recipe's name or file.")
    var name: String

    @Option(help: "Language of the explanations: en or ja.")
    var lang = "en"

    func validate() throws {
        // As `recipe run` refuses it: an unknown language would silently show English.
        guard ["en", "ja"].contains(lang) else { throw ValidationError("--lang must be en or ja, not '\(lang)'") }
    }

    @OptionGroup var recipes: RecipeFolderOptions

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let recipe = try recipes.catalog.recipe(name)
        try RecipeValidator(actions: .builtIn).validate(recipe)
        if global.output == .json {
            try Output.json(recipe.steps.map { ["id": $0.id, "title": $0.title, "action": $0.action, "on": $0.environment.rawValue, "explanation": $0.explanation(in: lang)] })
            return
        }
        print("\(recipe.title) (\(recipe.name))\n")
        if !recipe.description.isEmpty { print(recipe.description + "\n") }
        if !recipe.parameters.isEmpty {
            print("Parameters:")
            for p in recipe.parameters { print("  \(p.name) (\(p.type.rawValue)\(p.defaultValue.map { ", default \($0)" } ?? "")): \(p.help)") }
            print("")
        }
        for (index, step) in recipe.steps.enumerated() {
            print("\(RecipeStep.listed(step.title, position: index + 1))  [\(step.action) on \(step.environment.rawValue)]")
            for line in step.explanation(in: lang).split(separator: "\n", omittingEmptySubsequences: false) { print("   \(line)") }
            print("")
        }
    }
}
