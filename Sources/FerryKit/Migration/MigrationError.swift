public enum MigrationError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSnapshot(sourceServerID: String)
    case snapshotOfAnotherServer(snapshotID: String, sourceServerID: String)
    case snapshotWithoutDisks(snapshotID: String)

    public var description: String {
        switch self {
        case .noSnapshot(let id): return "\(id) has no snapshot yet: replicate it first (its initial sync commits the first)"
        case .snapshotOfAnotherServer(let snapshot, let id): return "snapshot \(snapshot) is not one of \(id)'s (see `ferry snapshot list \(id)`)"
        case .snapshotWithoutDisks(let snapshot): return "snapshot \(snapshot) has no disk to launch"
        }
    }
}
