import ArgumentParser
import FerryCore
import FerryKit
#if canImport(Glibc)
import Glibc
#endif

struct RecipeRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a recipe: guided on a terminal (Enter before each step), unattended with --yes."
    )

    @Argument(help: "The recipe's name or file.")
    var name: String

    @OptionGroup var targets: RecipeTargetOptions

    @OptionGroup var style: RecipeRunStyle

    @OptionGroup var recipes: RecipeFolderOptions

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let catalog = recipes.catalog
        _ = try catalog.origin(of: name)  // an unknown recipe is told before a missing workspace
        let workspace = try global.openWorkspace()
        let recipe = try catalog.recipeForRun(name, in: workspace)
        let console = RecipeConsole(guided: style.isGuided, json: global.output == .json)
        let registry = try InstalledAdapters.registry(workspaceRoot: global.workspaceURL, only: try targets.adapterNames(of: recipe))
        let runner = RecipeRunner(workspace: workspace, actions: .builtIn, registry: registry, events: console)
        let parameters = try targets.parsedParameters(for: recipe)
        let run = try await console.running(language: style.lang) {
            try await runner.start(recipe, parameters: parameters, source: targets.source, target: targets.target, language: style.lang)
        }
        try console.summary(run)
    }
}
