import ArgumentParser
import FerryCore
import FerryKit

struct RecipeDestroyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Remove everything a run created, newest first. Safe to repeat.")

    @Argument(help: "The run's id (run-…).")
    var runID: String

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let console = RecipeConsole(guided: false, json: global.output == .json)
        let workspace = try global.openWorkspace()
        let registry = try InstalledAdapters.registry(workspaceRoot: global.workspaceURL, only: try RecipeRunAdapters.environments(of: runID, in: workspace))
        let runner = RecipeRunner(workspace: workspace, actions: .builtIn, registry: registry, events: console)
        let removed = try await runner.destroy(runID)
        if global.output == .json {
            try Output.json(removed.map { ["kind": $0.resource.kind.rawValue, "id": $0.resource.id, "step": $0.stepID] })
        } else {
            print(removed.isEmpty ? "Nothing left to remove for \(runID)." : "Removed \(removed.count) resource\(removed.count == 1 ? "" : "s") of \(runID).")
        }
    }
}
