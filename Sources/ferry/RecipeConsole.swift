import FerryCore
import FerryKit
import Foundation

/// How a run looks on a terminal: each step's title and explanation, a pause in guided
/// mode, progress lines, and a summary at the end.
struct RecipeConsole: RecipeRunEvents {
    let guided: Bool
    let json: Bool

    func willRun(step: RecipeStep, index: Int, of count: Int, language: String) async throws {
        guard !json else { return }
        print("\n== Step \(index + 1)/\(count): \(step.title)")
        for line in step.explanation(in: language).split(separator: "\n", omittingEmptySubsequences: false) { print("   \(line)") }
        if guided {
            print("   Press Enter to run this step (Ctrl-C stops; `ferry recipe resume` continues later) ", terminator: "")
            Output.flush()
            _ = readLine()
        }
        Output.flush()
    }

    func progress(step: String, _ text: String) {
        guard !json else { return }
        print("   · \(text)")
        Output.flush()
    }

    func didFinish(step: RecipeStep, run: RecipeRun, diagram: URL?) {
        guard !json, let record = run.step(step.id) else { return }
        let seconds = record.seconds.map { String(format: "%.1f s", $0) } ?? ""
        print(record.status == .succeeded ? "   ✓ done in \(seconds)" : "   ✗ failed: \(record.error ?? "")")
        if let diagram { print("   diagram: \(diagram.path)") }
        Output.flush()
    }

    func destroyed(_ record: RecipeResourceRecord) {
        guard !json else { return }
        print("removed \(record.resource.kind.rawValue) \(record.resource.id)")
        Output.flush()
    }

    func summary(_ run: RecipeRun) throws {
        if json { return try Output.json(run) }
        print("\nRun \(run.id) \(run.status.rawValue).")
        Output.table(["STEP", "SECONDS"], run.steps.map { [$0.stepID, $0.seconds.map { String(format: "%.1f", $0) } ?? "-"] })
        print("`ferry recipe status \(run.id)` shows what it created; `ferry recipe destroy \(run.id)` removes it.")
    }
}
