import ArgumentParser
import FerryCore
import FerryKit

struct RecipeStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show runs, or one run's steps and resources.")

    @Argument(help: "A run's id (run-…); all runs when omitted.")
    var runID: String?

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let workspace = try global.openWorkspace()
        let store = RecipeRunStore(workspace: workspace)
        guard let runID else {
            let runs = try store.runs().map { $0.noticingInterruption(in: workspace) }
            if global.output == .json { return try Output.json(runs) }
            if runs.isEmpty { print("No recipe runs yet: `ferry recipe run NAME` starts one."); return }
            Output.table(["RUN", "RECIPE", "TARGET", "STATUS", "STARTED"], runs.map { [$0.id, $0.recipe, $0.targetAdapter, $0.interruption?.summary ?? $0.status.rawValue, $0.startedAt.ISO8601Format()] })
            for run in runs { if let interruption = run.interruption { print("\(run.id): \(interruption.summary); continue with `\(interruption.resume)`") } }
            return
        }
        let record = try store.run(runID).noticingInterruption(in: workspace)
        if global.output == .json { return try Output.json(record) }
        print("Run \(record.id) of \(record.recipe): \(record.interruption?.summary ?? record.status.rawValue) (source \(record.sourceAdapter), target \(record.targetAdapter))")
        if let interruption = record.interruption { print("No process works on it any more: continue with `\(interruption.resume)`.") }
        Output.table(["STEP", "STATUS", "SECONDS", "ERROR"], record.steps.map { [$0.stepID, $0.status.rawValue, $0.seconds.map { String(format: "%.1f", $0) } ?? "-", $0.error ?? ""] })
        let live = record.resources.filter { $0.destroyedAt == nil }
        print("\nResources (\(live.count) live of \(record.resources.count) created):")
        for r in record.resources { print("  \(r.destroyedAt == nil ? "live     " : "destroyed") \(r.resource.kind.rawValue) \(r.resource.id) (step \(r.stepID), \(r.environment.rawValue))") }
    }
}
