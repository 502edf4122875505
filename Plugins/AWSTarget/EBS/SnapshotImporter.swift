import Crypto
import FerryCore
import Foundation

/// Turns a staging disk into an EBS snapshot through the EBS direct APIs: StartSnapshot
/// (with the parent for an incremental import), PutSnapshotBlock for every block that holds
/// data or changed, with a bounded number in flight, then CompleteSnapshot with the changed
/// block count and the LINEAR aggregated checksum.
struct SnapshotImporter: Sendable {
    var ebs: EBSClient
    var ec2: EC2Client
    var concurrency: Int
    var waiter: StateWaiter

    static let blockSize = UInt64(EBSClient.blockSize)
    static let gibibyte: UInt64 = 1 << 30

    struct Result: Sendable {
        var snapshotID: String
        var volumeSizeGiB: Int
        var blocksUploaded: Int
        var bytesSent: UInt64
    }

    func run(_ request: VolumeImportRequest, progress: (@Sendable (TransferProgress) -> Void)?) async throws -> Result {
        let source = request.source
        let sizeGiB = max(1, Int(DiskSize.blocks(source.size, of: Self.gibibyte)))
        var parentBlocks: Set<UInt64>?
        if let parent = request.parent {
            guard parent.kind == .snapshot else {
                throw VolumeImportError.parentNotSnapshot(parent.id)
            }
            parentBlocks = Set(try await ebs.listSnapshotBlocks(snapshotID: parent.id).blocks.map { UInt64($0.index) })
        }
        let plan = BlockUploadPlan(
            diskSize: source.size,
            allocated: request.changedRanges != nil && parentBlocks != nil ? [] : try source.allocatedRanges(),
            changed: request.changedRanges, parentBlocks: parentBlocks, blockSize: Self.blockSize
        )
        var tags = request.tags
        if tags["Name"] == nil { tags["Name"] = request.name }
        let started = try await ebs.startSnapshot(
            volumeSizeGiB: sizeGiB, parentSnapshotID: request.parent?.id,
            description: "Ferry import of \(request.name)", tags: tags, clientToken: UUID().uuidString
        )
        do {
            let uploaded = try await upload(plan, from: source, to: started.id, progress: progress)
            _ = try await ebs.completeSnapshot(snapshotID: started.id, changedBlocksCount: uploaded.digests.count, aggregatedChecksum: Self.aggregateChecksum(uploaded.digests))
            try await waitUntilCompleted(started.id)
            return Result(snapshotID: started.id, volumeSizeGiB: sizeGiB, blocksUploaded: uploaded.digests.count, bytesSent: uploaded.bytesSent)
        } catch {
            // A snapshot left pending expires by itself; deleting it now frees it sooner.
            _ = try? await ec2.call(.deleteSnapshot, QueryParameters([("SnapshotId", started.id)]))
            throw error
        }
    }

    private struct Uploaded {
        var digests: [UInt64: SHA256.Digest] = [:]
        var bytesSent: UInt64 = 0
    }

    /// Reads, hashes and sends the planned blocks, at most `concurrency` at a time.
    private func upload(_ plan: BlockUploadPlan, from source: any BlockReader, to snapshotID: String, progress: (@Sendable (TransferProgress) -> Void)?) async throws -> Uploaded {
        let total = UInt64(plan.blockIndexes.count) * Self.blockSize
        var result = Uploaded()
        var done: UInt64 = 0
        try await withThrowingTaskGroup(of: (UInt64, SHA256.Digest?).self) { group in
            var pending = plan.blockIndexes.makeIterator()
            func addNext() -> Bool {
                guard let index = pending.next() else { return false }
                group.addTask { [ebs] in
                    // The source may be a file, a device or a plugin's pipe: read off the cooperative pool.
                    let block = try await BlockingWork.run { try Self.readBlock(index, from: source) }
                    if Self.isZero(block) && !plan.mustSendZeroBlock(index) { return (index, nil) }
                    let digest = SHA256.hash(data: block)
                    try await ebs.putSnapshotBlock(snapshotID: snapshotID, index: Int(index), data: block, digest: digest)
                    return (index, digest)
                }
                return true
            }
            for _ in 0..<max(1, concurrency) where addNext() {}
            while let (index, digest) = try await group.next() {
                done += Self.blockSize
                if let digest {
                    result.digests[index] = digest
                    result.bytesSent += Self.blockSize
                }
                progress?(TransferProgress(bytesDone: done, bytesTotal: total, bytesSent: result.bytesSent))
                _ = addNext()
            }
        }
        return result
    }

    /// The LINEAR aggregate: the base64 SHA-256 of the blocks' digests concatenated in block order.
    static func aggregateChecksum(_ digests: [UInt64: SHA256.Digest]) -> String {
        Data(SHA256.hash(data: digests.sorted { $0.key < $1.key }.flatMap { Array($0.value) })).base64EncodedString()
    }

    /// The block at `index`, padded with zeros past the end of the disk (EBS blocks are whole).
    static func readBlock(_ index: UInt64, from source: any BlockReader) throws -> [UInt8] {
        var block = [UInt8](repeating: 0, count: Int(blockSize))
        let offset = index * blockSize
        let count = Int(min(blockSize, source.size - offset))
        try block.withUnsafeMutableBytes { buffer in
            try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), at: offset)
        }
        return block
    }

    static func isZero(_ block: [UInt8]) -> Bool {
        block.withUnsafeBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            return words.allSatisfy { $0 == 0 } && raw[(words.count * 8)...].allSatisfy { $0 == 0 }
        }
    }

    private func waitUntilCompleted(_ snapshotID: String) async throws {
        try await waiter.wait(for: "snapshot \(snapshotID) to complete") {
            let items = try await ec2.describe(.describeSnapshots, QueryParameters([("SnapshotId.1", snapshotID)]), list: "snapshotSet")
            switch items.first?.string("status") {
            case "completed": return true
            case "error": throw VolumeImportError.snapshotFailed(snapshotID, items.first?.string("statusMessage") ?? "state error")
            default: return false
            }
        }
    }
}

public enum VolumeImportError: Error, Hashable, Sendable, CustomStringConvertible {
    case parentNotSnapshot(String)
    case snapshotFailed(String, String)

    public var description: String {
        switch self {
        case .parentNotSnapshot(let id):
            return "the parent of an incremental import must be a snapshot (snap-…), not \(id)"
        case .snapshotFailed(let id, let reason):
            return "snapshot \(id) failed: \(reason)"
        }
    }
}
