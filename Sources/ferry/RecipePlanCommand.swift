import ArgumentParser
import FerryCore
import FerryKit

struct RecipePlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Show what a run would create, on which target; nothing is touched.")

    @Argument(help: "The recipe's name or file.")
    var name: String

    @OptionGroup var targets: RecipeTargetOptions
    @OptionGroup var recipes: RecipeFolderOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let recipe = try recipes.catalog.recipe(name)
        let runner = RecipeRunner(workspace: try global.openWorkspace(), actions: .builtIn,
                                  registry: try InstalledAdapters.registry(workspaceRoot: global.workspaceURL, only: try targets.adapterNames(of: recipe)),
                                  events: RecipeConsole(guided: false, json: true))
        let plan = try runner.plan(recipe, parameters: try targets.parsedParameters(for: recipe), source: targets.source, target: targets.target)
        switch global.output {
        case .json: try Output.json(plan)
        case .text:
            print("Plan for \(recipe.title): source on \(targets.source), target on \(targets.target)\n")
            for (index, step) in plan.enumerated() {
                print("\(RecipeStep.listed(step.title, position: index + 1))  [\(step.action) on \(step.adapter)]")
                for effect in step.effects { print("   - \(effect)") }
                if let problem = step.problem { print("   ! cannot run: \(problem)") }
            }
        }
    }
}
