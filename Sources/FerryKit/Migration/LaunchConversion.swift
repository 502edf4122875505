import FerryCore

/// What the convert stage of one launch did, kept with its job (`JobStore.conversion(jobID:)`)
/// and shown by `ferry source show` and the recipe's launch step: converted (with the report:
/// file, before → after, why), skipped (and why), refused (what was found), or failed.
public struct LaunchConversion: Codable, Hashable, Sendable {
    public enum Outcome: String, Codable, Hashable, Sendable {
        case converted, skipped, refused, failed
    }

    public var outcome: Outcome
    public var platform: TargetPlatform?
    /// Where the converter ran: "converter instance i-… (Machine Converter web) in subnet-…",
    /// or "on this machine, before upload".
    public var converter: String?
    /// The disk as the converter found it, when it looked.
    public var inspection: GuestInspection?
    public var report: ConversionReport?
    /// Why it was skipped, refused or failed.
    public var reason: String?

    public init(outcome: Outcome, platform: TargetPlatform? = nil, converter: String? = nil, inspection: GuestInspection? = nil,
                report: ConversionReport? = nil, reason: String? = nil) {
        self.outcome = outcome
        self.platform = platform
        self.converter = converter
        self.inspection = inspection
        self.report = report
        self.reason = reason
    }

    /// One line for a person, in English and Japanese.
    public var headline: (en: String, ja: String) {
        let platformName = platform?.rawValue ?? "the target"
        switch outcome {
        case .converted:
            let count = report?.changes.count ?? 0
            return count == 0
                ? ("nothing to change: the disk already boots on \(platformName)", "変更なし: ディスクはすでに \(platformName) で起動できます")
                : ("\(count) change\(count == 1 ? "" : "s") for \(platformName)", "\(platformName) 向けに \(count) 件の変更")
        case .skipped: return ("skipped: \(reason ?? "")", "変換なし: \(reason ?? "")")
        case .refused: return ("refused: \(reason ?? "")", "変換不可: \(reason ?? "")")
        case .failed: return ("failed: \(reason ?? "")", "変換失敗: \(reason ?? "")")
        }
    }
}
