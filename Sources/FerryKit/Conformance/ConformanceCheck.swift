import FerryCore
/// One check of the conformance kit, with its outcome and why.
public struct ConformanceCheck: Codable, Hashable, Sendable {
    public enum Outcome: String, Codable, Hashable, Sendable {
        case pass, fail, skip
    }

    /// A stable identifier ("descriptor", "reads-deterministic").
    public var id: String
    /// What is checked, in words.
    public var title: String
    public var outcome: Outcome
    /// Why it passed, failed or was skipped.
    public var detail: String
    /// Structural checks need no data: what an adapter says about itself and what it finds.
    public var isStructural: Bool

    public init(id: String, title: String, outcome: Outcome, detail: String, isStructural: Bool) {
        self.id = id
        self.title = title
        self.outcome = outcome
        self.detail = detail
        self.isStructural = isStructural
    }
}
