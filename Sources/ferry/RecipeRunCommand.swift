import ArgumentParser
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

    @Flag(help: "Run unattended: do not wait before each step.")
    var yes = false

    @Option(help: "Language of the explanations: en or ja.")
    var lang = "en"

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        guard ["en", "ja"].contains(lang) else { throw ValidationError("--lang must be en or ja") }
        let recipe = try RecipeLoader.load(file: RecipeCatalog().file(for: name))
        let workspace = try global.openWorkspace()
        let console = RecipeConsole(guided: !yes && isatty(STDIN_FILENO) == 1, json: global.output == .json)
        let runner = RecipeRunner(workspace: workspace, actions: .builtIn, registry: try InstalledAdapters.registry(workspaceRoot: global.workspaceURL), events: console)
        let run = try await runner.start(recipe, parameters: try targets.parsedParameters(), source: targets.source, target: targets.target, language: lang)
        try console.summary(run)
    }
}
