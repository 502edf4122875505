import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct RecipeDiagramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diagram", abstract: "Print where a run's architecture diagrams (SVG) are.")

    @Argument(help: "The run's id (run-…).")
    var runID: String

    @Option(help: "Only the diagram after this step.")
    var step: String?

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let workspace = try global.openWorkspace()
        let record = try RecipeRunStore(workspace: workspace).run(runID)
        let folder = workspace.root.appendingPathComponent("runs/\(runID)")
        let steps = record.steps.filter { step == nil || $0.stepID == step }
        if let step, steps.isEmpty { throw ValidationError("run \(runID) has no step '\(step)' (steps: \(record.steps.map(\.stepID).joined(separator: ", ")))") }
        let files = steps.map { folder.appendingPathComponent("\($0.stepID).svg").path }.filter { FileManager.default.fileExists(atPath: $0) }
        if global.output == .json { return try Output.json(files) }
        if files.isEmpty { print("No diagrams yet for \(runID)\(step.map { " at step \($0)" } ?? "")."); return }
        files.forEach { print($0) }
    }
}
