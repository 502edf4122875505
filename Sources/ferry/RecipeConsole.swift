import ArgumentParser
import FerryCore
import FerryKit
import Foundation

/// How a run looks on a terminal: each step's title and explanation, a pause in guided
/// mode, progress lines, the live status of long waits, and a summary at the end.
struct RecipeConsole: RecipeRunEvents, RecipeStatusDisplay {
    let guided: Bool
    let json: Bool
    let live = RecipeLiveLine()

    /// Runs `body` (the runner's start or resume) with this console drawing the actions' live status.
    func drawingStatus<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        try await RecipeStatusDisplays.$current.withValue(self, operation: body)
    }

    func show(_ status: RecipeStatus, step: String) {
        guard !json else { return }
        live.show(status)
    }

    func willRun(step: RecipeStep, index: Int, of count: Int, language: String) async throws {
        guard !json else { return }
        live.settle()
        let say = { RecipeWording.pick(language, en: $0, ja: $1) }
        print("\n== " + say("Step \(index + 1)/\(count): ", "ステップ \(index + 1)/\(count): ") + step.title(in: language))
        for line in step.explanation(in: language).split(separator: "\n", omittingEmptySubsequences: false) { print("   \(line)") }
        if guided {
            print("   " + say("Press Enter to run this step (Ctrl-C stops; `ferry recipe resume` continues later) ",
                            "Enter キーを押すとこのステップを実行します（Ctrl-C で中止、あとで `ferry recipe resume` で続行できます） "),
                  terminator: "")
            Output.flush()
            _ = readLine()
        }
        Output.flush()
    }

    func progress(step: String, _ text: String) {
        guard !json else { return }
        live.settle()
        print("   · \(text)")
        Output.flush()
    }

    func didFinish(step: RecipeStep, run: RecipeRun, diagram: URL?) {
        guard !json, let record = run.step(step.id) else { return }
        live.settle()
        let say = { RecipeWording.pick(run.language, en: $0, ja: $1) }
        let seconds = record.seconds.map { RecipeWording.seconds($0, run.language, decimals: 1) } ?? ""
        print(record.status == .succeeded ? say("   ✓ done in \(seconds)", "   ✓ 完了しました（\(seconds)）")
                                          : say("   ✗ failed: \(record.error ?? "")", "   ✗ 失敗しました: \(record.error ?? "")"))
        if let diagram { print(say("   diagram: ", "   構成図: ") + diagram.path) }
        Output.flush()
    }

    func destroyed(_ record: RecipeResourceRecord) {
        guard !json else { return }
        print("removed \(record.resource.kind.rawValue) \(record.resource.id)")
        Output.flush()
    }

    func summary(_ run: RecipeRun) throws {
        if json { return try Output.json(run) }
        let say = { RecipeWording.pick(run.language, en: $0, ja: $1) }
        print(say("\nRun \(run.id) \(run.status.rawValue).", "\n実行 \(run.id) は\(Self.japanese(run.status))。"))
        Output.table([say("STEP", "ステップ"), say("SECONDS", "秒")], run.steps.map { [$0.stepID, $0.seconds.map { String(format: "%.1f", $0) } ?? "-"] })
        print(say("`ferry recipe status \(run.id)` shows what it created; `ferry recipe destroy \(run.id)` removes it.",
                  "作成したものは `ferry recipe status \(run.id)` で確認でき、`ferry recipe destroy \(run.id)` で削除できます。"))
    }

    /// A run's status as the end of a Japanese sentence.
    static func japanese(_ status: RecipeRunStatus) -> String {
        switch status {
        case .running: return "実行中です"
        case .succeeded: return "成功しました"
        case .failed: return "失敗しました"
        case .destroying: return "削除中です"
        case .destroyed: return "削除済みです"
        }
    }

    /// Runs the runner's start or resume with this console drawing the live status; a run
    /// that stops at a step is told in the run's language, with the command that continues it.
    func running(language: String, _ body: () async throws -> RecipeRun) async throws -> RecipeRun {
        do {
            return try await drawingStatus(body)
        } catch RecipeError.stepFailed(let run, let step, let reason) where language == "ja" && !json {
            FileHandle.standardError.write(Data("エラー: 実行 \(run) はステップ「\(step)」で止まりました: \(reason)\n原因を取り除いてから `ferry recipe resume \(run)` で続きから実行してください。\n".utf8))
            throw ExitCode.failure
        }
    }
}
