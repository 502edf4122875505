import FerryCore
import Foundation

public enum MigrationError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSnapshot(sourceServerID: String)
    case noPointInTime(sourceServerID: String, asked: Date, oldest: Date)
    case snapshotOfAnotherServer(snapshotID: String, sourceServerID: String)
    case snapshotWithoutDisks(snapshotID: String)
    case notConvertible(found: String, reasons: [String])
    case noConverter(platform: TargetPlatform)

    public var description: String {
        switch self {
        case .noSnapshot(let id): return "\(id) has no snapshot yet: replicate it first (its initial sync commits the first)"
        case .noPointInTime(let id, let asked, let oldest):
            return "\(id) has no point in time at or before \(asked.ISO8601Format()) any more: the oldest retained was taken \(oldest.ISO8601Format()) (see `ferry snapshot list \(id)`; retention thins older points)"
        case .snapshotOfAnotherServer(let snapshot, let id): return "snapshot \(snapshot) is not one of \(id)'s (see `ferry snapshot list \(id)`)"
        case .snapshotWithoutDisks(let snapshot): return "snapshot \(snapshot) has no disk to launch"
        case .notConvertible(let found, let reasons):
            return "the machine cannot be converted to boot on the target, so nothing was launched: found \(found); \(reasons.joined(separator: "; ")). "
                + "Launch without conversion (--no-convert, or the recipe parameter convert=false) only if it was built for the target"
        case .noConverter(let platform):
            return "no machine converter on this machine to convert for \(platform.rawValue); launch without conversion (--no-convert) only if the machine was built for the target"
        }
    }
}
