import FerryCore
import Foundation

/// The workshop's Conversion step: the converter looks at a copy of the latest snapshot's root
/// disk and says what it found and what a launch's conversion will change for the target — the
/// Machine Converter's work, shown before the test launch does it — and decides, for the
/// launches that follow (its `convert` output), whether they convert:
/// - `true`: they convert; a machine the converter cannot convert stops the run here, before
///   anything is launched;
/// - `false`: they launch the disks as they were replicated;
/// - `auto`: they convert what the converter knows, and launch as replicated what it does not
///   (the workshop's busybox guest, built for the sandbox), saying so.
struct InspectSnapshotAction: RecipeAction {
    init() {}

    let name = "migration.inspect"
    let summary = "Inspect the latest snapshot's root disk, say what the conversion will change, and decide whether the launches convert"
    let inputs = [
        RecipeActionInput("source_server_id", .string, help: "the source server"),
        RecipeActionInput("convert", .any, default: .string("auto"),
                          help: "true: convert (refuse what cannot be); false: launch as replicated; auto: convert what the converter knows"),
    ]
    let outputs = ["snapshot_id", "found", "operating_system", "platform", "boots_as_is", "convertible", "planned_changes", "convert", "convert_reason"]
    let requiredCapabilities: [Capability] = [.images]

    enum Mode: String { case yes = "true", no = "false", auto }

    static func mode(_ inputs: RecipeInputs) throws -> Mode {
        if let flag = inputs["convert"]?.boolean { return flag ? .yes : .no }
        switch (inputs.optionalString("convert") ?? "auto").lowercased() {
        case "true", "yes": return .yes
        case "false", "no": return .no
        case "auto": return .auto
        case let other: throw RecipeInputError.invalid(name: "convert", reason: "must be true, false or auto, not '\(other)'")
        }
    }

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["inspect a copy of the latest snapshot of \(inputs.optionalString("source_server_id") ?? "?") with the converter appliance"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let mode = try Self.mode(inputs)
        let result = try await context.migration.inspect(sourceServerID: try inputs.string("source_server_id"))
        let inspection = result.inspection
        context.progress(context.say(en: "found: \(inspection.summary)", ja: "検査結果: \(inspection.summaryJapanese)"))
        var bootsAsIs = "unknown"
        var planned: [(en: String, ja: String)] = []
        if let platform = result.platform {
            bootsAsIs = inspection.bootability(on: platform).map { $0 ? "yes" : "no" } ?? "unknown"
            let answer = (en: bootsAsIs == "unknown" ? "unknown (no kernel the converter can read)" : bootsAsIs,
                          ja: bootsAsIs == "yes" ? "はい" : bootsAsIs == "no" ? "いいえ" : "不明（コンバーターが読めるカーネルがありません）")
            context.progress(context.say(en: "as replicated, it boots on \(platform.rawValue) (\(platform.summary)): \(answer.en)",
                                         ja: "レプリケーションされたままで \(platform.rawValue) で起動できるか: \(answer.ja)"))
            if inspection.convertible {
                planned = inspection.plannedWork(for: platform)
                for item in planned { context.progress(context.say(en: "the conversion will \(item.en)", ja: "変換で\(item.ja)")) }
            }
        }

        // What the launches do, and why when they do not convert.
        let convert: Bool
        var reason = ""
        let reasons = inspection.reasons.joined(separator: "; ")
        switch mode {
        case .yes:
            guard inspection.convertible else { throw MigrationError.notConvertible(found: inspection.summary, reasons: inspection.reasons) }
            convert = true
        case .no:
            convert = false
            reason = "conversion is off (convert=false): the disks are launched as they were replicated"
        case .auto:
            convert = inspection.convertible
            if !convert { reason = "the converter does not know this system (\(reasons)); with convert=auto it is launched as it was replicated, which boots only a machine built for the target" }
        }
        if convert {
            let where_ = result.convertsOnTarget
                ? (en: "on a converter instance in the staging subnet", ja: "ステージングサブネットのコンバーターインスタンスで")
                : (en: "on this machine, before upload", ja: "アップロード前にこのマシンで")
            context.progress(context.say(en: "each launch converts a copy \(where_.en)", ja: "各起動はコピーを\(where_.ja)変換します"))
        } else {
            context.progress(context.say(en: reason, ja: mode == .no
                ? "変換は無効に設定されています: 起動はレプリケーションされたままのディスクを使います"
                : "コンバーターはこのシステムを知りません（\(inspection.reasonsJapanese.joined(separator: "。"))）。自動の設定なので、レプリケーションされたまま起動します（ターゲット向けに作られたマシンだけが起動します）"))
            if bootsAsIs == "no" {
                context.progress(context.say(en: "warning: as replicated it does not boot on \(result.platform?.rawValue ?? "the target"): the launches will fail to boot; run with conversion on",
                                             ja: "警告: レプリケーションされたままでは \(result.platform?.rawValue ?? "ターゲット") で起動しません。起動は失敗します。変換を有効にして実行してください"))
            }
        }
        return [
            "snapshot_id": .string(result.snapshotID), "found": .string(inspection.summary),
            "operating_system": .string(inspection.operatingSystem?.prettyName ?? ""), "platform": .string(result.platform?.rawValue ?? ""),
            "boots_as_is": .string(bootsAsIs), "convertible": .boolean(inspection.convertible),
            "planned_changes": .list(planned.map { .string($0.en) }),
            "convert": .boolean(convert), "convert_reason": .string(reason),
        ]
    }
}
