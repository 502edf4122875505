import FerryCore
public enum StagingStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case snapshotNotFound(String)
    case diskNotFound(snapshot: String, disk: Int, disks: [Int])
    case chunkMissing(String)
    case corrupt(String)
    /// A segment file the index names is not there (moved by a compaction, or lost).
    case segmentMissing(String)
    /// Blocks of the replica refer to chunks that are not stored: they were dropped so the agent sends them again.
    case replicaIncomplete(sourceServerID: String, blocks: [String])
    case io(path: String, operation: String, message: String)

    public var description: String {
        switch self {
        case .snapshotNotFound(let id): return "no snapshot '\(id)' in this workspace (see `ferry snapshot list`)"
        case .diskNotFound(let id, let disk, let disks):
            return "snapshot \(id) has no disk \(disk) (disks: \(disks.map(String.init).joined(separator: ", ")))"
        case .chunkMissing(let hash): return "staging store: chunk \(hash) is referenced but missing"
        case .corrupt(let what): return "staging store: \(what)"
        case .segmentMissing(let path): return "staging store: segment \(path) is missing"
        case .replicaIncomplete(let id, let blocks):
            return "staging store: \(blocks.count) block\(blocks.count == 1 ? "" : "s") of \(id) refer to chunks that are not stored (first: \(blocks.first ?? "")); they were dropped from the replica and the agent's next pass sends them again"
        case .io(let path, let operation, let message): return "\(path): \(operation) failed: \(message)"
        }
    }
}
