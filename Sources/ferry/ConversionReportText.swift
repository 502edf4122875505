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
        if let converter = conversion.converter { lines.append(japanese ? "  実行場所（英語）: \(converter)" : "  converter:  \(converter)") }
        if let inspection = conversion.inspection { lines.append(japanese ? "  検査結果: \(inspection.summary)" : "  found:      \(inspection.summary)") }
        if let report = conversion.report {
            if let tool = report.initramfsTool { lines.append(japanese ? "  initramfs: \(tool)" : "  initramfs:  \(tool)") }
            for change in report.changes {
                lines.append("  - \(change.file) [\(japanese ? change.topic.japanese : change.topic.english)]")
                lines.append("      \(Self.oneLine(change.before)) → \(Self.oneLine(change.after))")
                // The converter's reasons are in English: in Japanese they are labelled so.
                lines.append(japanese ? "      理由（英語）: \(change.why)" : "      why: \(change.why)")
            }
            for note in report.notes { lines.append(japanese ? "  注記: \(note)" : "  note: \(note)") }
        }
        return lines.joined(separator: "\n")
    }

    /// A configuration line as one line of text: tabs and runs of spaces become one space.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\t" || $0 == " " }).joined(separator: " ")
    }
}
