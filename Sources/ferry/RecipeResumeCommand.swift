import ArgumentParser
import FerryCore
import FerryKit
#if canImport(Glibc)
import Glibc
#endif

struct RecipeResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Continue a run from its failed or interrupted step; finished steps are not redone.")

    @Argument(help: "The run's id (run-…).")
    var runID: String

    @Flag(help: "Run unattended: do not wait before each step.")
    var yes = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let console = RecipeConsole(guided: !yes && isatty(STDIN_FILENO) == 1, json: global.output == .json)
        let workspace = try global.openWorkspace()
        let registry = try InstalledAdapters.registry(workspaceRoot: global.workspaceURL, only: try RecipeRunAdapters.names(of: runID, in: workspace))
        let runner = RecipeRunner(workspace: workspace, actions: .builtIn, registry: registry, events: console)
        let language = (try? RecipeRunStore(workspace: workspace).run(runID).language) ?? "en"
        try console.summary(try await console.running(language: language) { try await runner.resume(runID) })
    }
}
