import ArgumentParser
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
        let runner = RecipeRunner(workspace: try global.openWorkspace(), actions: .builtIn, registry: try InstalledAdapters.registry(workspaceRoot: global.workspaceURL), events: console)
        try console.summary(try await runner.resume(runID))
    }
}
