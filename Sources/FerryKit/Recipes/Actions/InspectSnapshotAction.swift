import FerryCore
import Foundation

/// The workshop's Conversion step: the converter looks at a copy of the latest snapshot's root
/// disk and says what it found and what a launch's conversion will change for the target — the
/// Machine Converter's work, shown before the test launch does it. With `convert` on, a machine
/// the converter cannot convert stops the run here, before anything is launched.
struct InspectSnapshotAction: RecipeAction {
    init() {}

    let name = "migration.inspect"
    let summary = "Inspect the latest snapshot's root disk and say what the conversion will change"
    let inputs = [
        RecipeActionInput("source_server_id", .string, help: "the source server"),
        RecipeActionInput("convert", .boolean, default: .boolean(true), help: "whether the launches convert (false: only say what was found)"),
    ]
    let outputs = ["snapshot_id", "found", "operating_system", "platform", "boots_as_is", "convertible", "planned_changes"]
    let requiredCapabilities: [Capability] = [.images]

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["inspect a copy of the latest snapshot of \(inputs.optionalString("source_server_id") ?? "?") with the converter appliance"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let convert = LaunchFromSnapshotAction.convert(inputs)
        let result = try await context.migration.inspect(sourceServerID: try inputs.string("source_server_id"))
        let inspection = result.inspection
        context.progress(context.say(en: "found: \(inspection.summary)", ja: "検査結果: \(inspection.summary)"))
        var bootsAsIs = "unknown"
        var planned: [(en: String, ja: String)] = []
        if let platform = result.platform {
            bootsAsIs = inspection.bootsOn(platform) ? "yes" : "no"
            planned = inspection.plannedWork(for: platform)
            let where_ = result.convertsOnTarget
                ? (en: "on a converter instance in the staging subnet", ja: "ステージングサブネットのコンバーターインスタンスで")
                : (en: "on this machine, before upload", ja: "アップロード前にこのマシンで")
            context.progress(context.say(en: "as replicated, it boots on \(platform.rawValue) (\(platform.summary)): \(bootsAsIs)",
                                         ja: "レプリケーションされたままで \(platform.rawValue) で起動できるか: \(bootsAsIs == "yes" ? "はい" : "いいえ")"))
            if inspection.convertible {
                for item in planned { context.progress(context.say(en: "the conversion will \(item.en)", ja: "変換で\(item.ja)")) }
                context.progress(context.say(en: convert ? "each launch converts a copy \(where_.en)" : "conversion is off (convert=false): the launches boot the disks as they were replicated",
                                             ja: convert ? "各起動はコピーを\(where_.ja)変換します" : "変換は無効です（convert=false）: 起動はレプリケーションされたままのディスクを使います"))
            }
        }
        if !inspection.convertible {
            let reasons = inspection.reasons.joined(separator: "; ")
            if convert { throw MigrationError.notConvertible(found: inspection.summary, reasons: inspection.reasons) }
            context.progress(context.say(en: "the converter could not convert it (\(reasons)); conversion is off, so it is launched as replicated",
                                         ja: "コンバーターは変換できません（\(reasons)）。変換は無効なので、レプリケーションされたまま起動します"))
        }
        return [
            "snapshot_id": .string(result.snapshotID), "found": .string(inspection.summary),
            "operating_system": .string(inspection.operatingSystem?.prettyName ?? ""), "platform": .string(result.platform?.rawValue ?? ""),
            "boots_as_is": .string(bootsAsIs), "convertible": .boolean(inspection.convertible),
            "planned_changes": .list(planned.map { .string($0.en) }),
        ]
    }
}
