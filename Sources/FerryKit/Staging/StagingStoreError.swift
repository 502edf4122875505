public enum StagingStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case snapshotNotFound(String)
    case diskNotFound(snapshot: String, disk: Int, disks: [Int])
    case chunkMissing(String)
    case corrupt(String)
    case io(path: String, operation: String, message: String)

    public var description: String {
        switch self {
        case .snapshotNotFound(let id): return "no snapshot '\(id)' in this workspace (see `ferry snapshot list`)"
        case .diskNotFound(let id, let disk, let disks):
            return "snapshot \(id) has no disk \(disk) (disks: \(disks.map(String.init).joined(separator: ", ")))"
        case .chunkMissing(let hash): return "staging store: chunk \(hash) is referenced but missing"
        case .corrupt(let what): return "staging store: \(what)"
        case .io(let path, let operation, let message): return "\(path): \(operation) failed: \(message)"
        }
    }
}
