import FerryCore
import FerryKit

/// A launch's conversion for a person: what was found, what changed (file, before → after,
/// why) and what the converter noted, in English or Japanese.
struct ConversionReportText {
    let conversion: LaunchConversion
    let jobID: String
    let japanese: Bool

    var text: String {
        var lines: [String] = []
        let headline = conversion.headline
        lines.append(japanese ? "変換（ジョブ \(jobID)）: \(headline.ja)" : "Conversion (job \(jobID)): \(headline.en)")
        if let converter = conversion.converter { lines.append(japanese ? "  実行場所: \(converter)" : "  converter:  \(converter)") }
        if let inspection = conversion.inspection { lines.append(japanese ? "  検査結果: \(inspection.summary)" : "  found:      \(inspection.summary)") }
        if let report = conversion.report {
            if let tool = report.initramfsTool { lines.append(japanese ? "  initramfs: \(tool)" : "  initramfs:  \(tool)") }
            for change in report.changes {
                lines.append("  - \(change.file) [\(japanese ? change.topic.japanese : change.topic.english)]")
                lines.append("      \(change.before) → \(change.after)")
                if !japanese { lines.append("      why: \(change.why)") }
            }
            for note in report.notes { lines.append(japanese ? "  注記: \(note)" : "  note: \(note)") }
        }
        return lines.joined(separator: "\n")
    }
}
