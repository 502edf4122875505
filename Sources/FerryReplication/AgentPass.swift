import FerryCore
import Foundation
import NIOCore
import NIOPosix

/// One pass of the agent over every disk: what is sent, what is in flight, what the server
/// holds. It survives across passes on one connection, so a second pass sends only changes.
package struct AgentPass {
    private enum InFlight {
        case block(ChunkHash, retries: Int)
        /// The pages' bytes: what of the source's writes it carries.
        case patch(bytes: Int)
        case trim
    }

    private struct Key: Hashable {
        package var disk: UInt32
        package var index: UInt64
    }

    package let configuration: ReplicationAgent.Configuration
    /// What the server holds, per disk: block index → hash.
    private(set) var held: [[UInt64: ChunkHash]]
    private var inFlight: [Key: InFlight] = [:]
    private var number: UInt64 = 0
    private var buffer = [UInt8](repeating: 0, count: ReplicationProtocol.blockSize)
    private var startedAt = Date().timeIntervalSince1970
    private var passClock = ContinuousClock.now
    private var lastBacklogReport = ContinuousClock.now

    private static let blockSize = ReplicationProtocol.blockSize
    private static let maximumRetries = 5

    package init(configuration: ReplicationAgent.Configuration, held: [[UInt64: ChunkHash]]) {
        self.configuration = configuration
        self.held = held
    }

    /// A full pass: every allocated block read, hashed and compared with what the server
    /// holds, then committed. The initial sync, the rescan, and every pass of a source whose
    /// writes nobody tracks.
    package mutating func run(connection: inout AgentConnection, onEvent: @Sendable (ReplicationAgent.Event) -> Void) async throws -> AgentPassSummary {
        var summary = try await scan(connection: &connection, onEvent: onEvent)
        try await drain(connection: &connection)
        summary.snapshotID = try await commit(sourceTime: Date(timeIntervalSince1970: startedAt), connection: &connection)
        summary.seconds = Self.seconds(passClock.duration(to: .now))
        onEvent(.progress(Self.progress(pass: number, done: summary.bytesScanned, total: summary.bytesScanned, sent: summary.bytesSent, since: passClock)))
        return summary
    }

    /// Starts a pass: its number, its clock, an empty summary.
    package mutating func begin() -> AgentPassSummary {
        number += 1
        startedAt = Date().timeIntervalSince1970
        passClock = .now
        return AgentPassSummary(pass: number, snapshotID: "", bytesScanned: 0, bytesSent: 0, blocksSent: 0, blocksTrimmed: 0, seconds: 0)
    }

    /// Reads every allocated block of every disk and sends what the server does not hold.
    package mutating func scan(connection: inout AgentConnection, onEvent: @Sendable (ReplicationAgent.Event) -> Void) async throws -> AgentPassSummary {
        var summary = begin()
        let plans = try configuration.disks.map { disk in
            ByteRange.blockIndexes(covering: try disk.reader.allocatedRanges(), blockSize: UInt64(Self.blockSize))
        }
        let total = UInt64(plans.reduce(0) { $0 + $1.count }) * UInt64(Self.blockSize)
        var lastReport = ContinuousClock.now - .seconds(1)

        for (diskIndex, disk) in configuration.disks.enumerated() {
            let indexes = plans[diskIndex]
            let allocated = Set(indexes)
            // Blocks the server holds that are now holes read as zeros: tell it so.
            for index in held[diskIndex].keys.sorted() where !allocated.contains(index) {
                try await send(.trim(disk: UInt32(diskIndex), index: index), key: Key(disk: UInt32(diskIndex), index: index), as: .trim, connection: &connection)
                summary.blocksTrimmed += 1
            }
            for index in indexes {
                try await replicate(disk: diskIndex, index: index, summary: &summary, connection: &connection)
                if lastReport.duration(to: .now) >= .milliseconds(250) {
                    lastReport = .now
                    let progress = Self.progress(pass: number, done: summary.bytesScanned, total: total, sent: summary.bytesSent, since: passClock)
                    onEvent(.progress(progress))
                    try await connection.send(.progress(pass: number, bytesDone: summary.bytesScanned, bytesTotal: total, backlogBytes: total - summary.bytesScanned, oldestPendingWrite: 0))
                }
            }
        }
        return summary
    }

    /// Reads the blocks written on each disk (in the configuration's order) and sends those
    /// whose content the server does not hold: what a tracked pass sends instead of a scan.
    /// `report` makes the progress frame for a backlog, sent once a second while this takes
    /// long: the backlog is then what is still to send of `written` and what is in flight,
    /// every byte written and not yet acknowledged, and the lag the server shows keeps its
    /// meaning while a big batch goes out.
    package mutating func send(written: [TrackedWrites], summary: inout AgentPassSummary, connection: inout AgentConnection,
                               report: ((_ backlogBytes: UInt64) -> ReplicationFrame)? = nil) async throws {
        let sizes = configuration.disks.map(\.reader.size)
        var remaining = UInt64(written.enumerated().reduce(0) { count, disk in
            count + disk.element.blocks.count { $0 * UInt64(Self.blockSize) < sizes[disk.offset] }
        })
        for (diskIndex, writes) in written.enumerated() {
            for index in writes.blocks.sorted() where index * UInt64(Self.blockSize) < sizes[diskIndex] {
                try await replicate(disk: diskIndex, index: index, pages: writes.pages[index], summary: &summary, connection: &connection)
                remaining -= 1
                if let report { try await reportBacklog(remaining: remaining, report, connection: &connection) }
            }
        }
    }

    private mutating func reportBacklog(remaining blocks: UInt64, _ report: (UInt64) -> ReplicationFrame, connection: inout AgentConnection) async throws {
        guard lastBacklogReport.duration(to: .now) >= .seconds(1) else { return }
        lastBacklogReport = .now
        try await connection.send(report(blocks * UInt64(Self.blockSize) + bytesInFlight))
    }

    /// Reads one block and sends it, or its trim, when the server holds something else; when
    /// only a few `pages` of it were written and the server holds a version of it, only those
    /// pages, as a patch.
    private mutating func replicate(disk diskIndex: Int, index: UInt64, pages: UInt128? = nil, summary: inout AgentPassSummary,
                                    connection: inout AgentConnection) async throws {
        let key = Key(disk: UInt32(diskIndex), index: index)
        // Written again while its last content is on its way (tracked writes): that one is
        // acknowledged first, so that what the server holds is known before comparing.
        while inFlight[key] != nil { try await handleReply(connection: &connection) }
        if let pages, pages != 0, pages.nonzeroBitCount <= ReplicationProtocol.maximumPatchPages, let base = held[diskIndex][index] {
            let sent = try await sendPatch(key: key, pages: pages, base: base, connection: &connection)
            summary.bytesScanned += UInt64(sent)
            summary.bytesSent += UInt64(sent)
            summary.blocksSent += 1
            try await throttle(sent: summary.bytesSent, since: passClock)
            return
        }
        let hash = try await readBlock(disk: configuration.disks[diskIndex], index: index)
        summary.bytesScanned += UInt64(Self.blockSize)
        if let hash {
            if held[diskIndex][index] != hash {
                let sent = try await sendBlock(key: key, hash: hash, retries: 0, connection: &connection)
                summary.bytesSent += UInt64(sent)
                summary.blocksSent += 1
                try await throttle(sent: summary.bytesSent, since: passClock)
            }
        } else if held[diskIndex][index] != nil {
            try await send(.trim(disk: key.disk, index: index), key: key, as: .trim, connection: &connection)
            summary.blocksTrimmed += 1
        }
    }

    /// Waits until the server has acknowledged every block sent (a refused one is read and
    /// sent again meanwhile).
    package mutating func drain(connection: inout AgentConnection, report: ((_ backlogBytes: UInt64) -> ReplicationFrame)? = nil) async throws {
        while !inFlight.isEmpty {
            try await handleReply(connection: &connection)
            if let report { try await reportBacklog(remaining: 0, report, connection: &connection) }
        }
    }

    /// Bytes sent and not yet acknowledged.
    package var bytesInFlight: UInt64 {
        inFlight.values.reduce(0) { total, flight in
            if case .patch(let bytes) = flight { return total + UInt64(bytes) }
            return total + UInt64(Self.blockSize)
        }
    }

    /// Asks the server to commit what it holds as the point in time `sourceTime`; every
    /// block must be acknowledged first (`drain`).
    package mutating func commit(sourceTime: Date, connection: inout AgentConnection) async throws -> String {
        precondition(inFlight.isEmpty, "a point in time is committed only once every block is acknowledged")
        try await connection.send(.endOfPass(pass: number, sourceTime: sourceTime.timeIntervalSince1970))
        let reply = try await connection.next()
        guard case .committed(let pass, let snapshotID) = reply, pass == number else {
            throw ReplicationProtocolError.unexpectedFrame(expected: "committed", got: reply.name)
        }
        return snapshotID
    }

    /// Reads a block (zero-padded past the disk's end) and returns its hash, or nil when it is all zeros.
    /// The read (a file, a device, a plugin's pipe) and the hash run on NIO's thread pool, not
    /// on the cooperative pool that the connection's tasks need meanwhile.
    private mutating func readBlock(disk: ReplicationAgent.Disk, index: UInt64) async throws -> ChunkHash? {
        let offset = index * UInt64(Self.blockSize)
        let count = Int(min(UInt64(Self.blockSize), disk.reader.size - offset))
        let reader = disk.reader
        let block = BlockBuffer(swapping: &buffer)
        defer { block.swap(back: &buffer) }
        return try await NIOThreadPool.singleton.runIfActive {
            try block.bytes.withUnsafeMutableBytes { bytes in
                try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<count]), at: offset)
                if count < Self.blockSize { UnsafeMutableRawBufferPointer(rebasing: bytes[count...]).initializeMemory(as: UInt8.self, repeating: 0) }
                if Self.isZero(UnsafeRawBufferPointer(bytes)) { return nil }
                return ChunkHash(hashing: UnsafeRawBufferPointer(bytes))
            }
        }
    }

    /// Reads the written pages of a block (zeros past the disk's end) and sends them as a
    /// patch of the version the server holds; returns the bytes sent.
    private mutating func sendPatch(key: Key, pages: UInt128, base: ChunkHash, connection: inout AgentConnection) async throws -> Int {
        let disk = configuration.disks[Int(key.disk)]
        let page = ReplicationProtocol.pageSize
        let indexes = (0..<(Self.blockSize / page)).filter { pages & (UInt128(1) << $0) != 0 }
        let blockOffset = key.index * UInt64(Self.blockSize)
        let reader = disk.reader
        // One read from the first page written to the last, not one per page: through a
        // hypervisor's NBD server each read is a round trip (thousands per point otherwise).
        let first = indexes.first ?? 0, last = indexes.last ?? 0
        let spanOffset = blockOffset + UInt64(first * page)
        let data = try await NIOThreadPool.singleton.runIfActive { () throws -> ByteBuffer in
            var span = [UInt8](repeating: 0, count: (last - first + 1) * page)
            let readable = Int(min(UInt64(span.count), reader.size - min(reader.size, spanOffset)))
            // A page that cannot be read fails the pass: zeros sent for it would be data lost.
            if readable > 0 { try span.withUnsafeMutableBytes { try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<readable]), at: spanOffset) } }
            var data = ByteBuffer()
            data.reserveCapacity(indexes.count * page)
            for index in indexes {
                let at = (index - first) * page
                data.writeBytes(span[at..<at + page])
            }
            return data
        }
        try await send(.patch(disk: key.disk, index: key.index, base: base.bytes, pages: indexes.map(UInt8.init), data: data), key: key, as: .patch(bytes: data.readableBytes), connection: &connection)
        return data.readableBytes
    }

    private mutating func sendBlock(key: Key, hash: ChunkHash, retries: Int, connection: inout AgentConnection) async throws -> Int {
        // The one copy of the block on its way out: into the buffer the channel sends as is.
        var data = ByteBuffer(bytes: buffer)
        var compressed = false
        if configuration.compress, let packed = buffer.withUnsafeBytes({ BlockCompression.compress($0) }), packed.count < buffer.count {
            data = ByteBuffer(bytes: packed)
            compressed = true
        }
        try await send(.block(disk: key.disk, index: key.index, sha256: hash.bytes, compressed: compressed, data: data), key: key, as: .block(hash, retries: retries), connection: &connection)
        return data.readableBytes
    }

    private mutating func send(_ frame: ReplicationFrame, key: Key, as flight: InFlight, connection: inout AgentConnection) async throws {
        while inFlight.count >= configuration.window { try await handleReply(connection: &connection) }
        inFlight[key] = flight
        try await connection.send(frame)
    }

    private mutating func handleReply(connection: inout AgentConnection) async throws {
        let reply = try await connection.next()
        switch reply {
        case .ack(let disk, let index):
            let key = Key(disk: disk, index: index)
            switch inFlight.removeValue(forKey: key) {
            case .block(let hash, _): held[Int(disk)][index] = hash
            case .trim: held[Int(disk)][index] = nil
            case .patch: throw ReplicationProtocolError.malformed("ack for a patch of block \(index) of disk \(disk): a patch is answered by patched")
            case nil: throw ReplicationProtocolError.malformed("ack for block \(index) of disk \(disk), which is not in flight")
            }
        case .patched(let disk, let index, let sha):
            let key = Key(disk: disk, index: index)
            guard case .patch? = inFlight.removeValue(forKey: key), let hash = ChunkHash(bytes: sha) else {
                throw ReplicationProtocolError.malformed("patched for block \(index) of disk \(disk), which is not a patch in flight")
            }
            held[Int(disk)][index] = hash
        case .nack(let disk, let index, let reason):
            let key = Key(disk: disk, index: index)
            // A patch refused (the server holds another version): the whole block follows.
            let retries: Int
            switch inFlight.removeValue(forKey: key) {
            case .block(_, let count): retries = count
            case .patch: retries = 0
            default: throw ReplicationProtocolError.malformed("nack for block \(index) of disk \(disk), which is not in flight")
            }
            guard retries < Self.maximumRetries else {
                throw ReplicationProtocolError.refused("block \(index) of disk \(disk) refused \(retries + 1) times: \(reason)")
            }
            // Read it again: the source may have changed since, and the new content is what counts.
            let diskConfig = configuration.disks[Int(disk)]
            if let hash = try await readBlock(disk: diskConfig, index: index) {
                _ = try await sendBlock(key: key, hash: hash, retries: retries + 1, connection: &connection)
            } else {
                try await send(.trim(disk: disk, index: index), key: key, as: .trim, connection: &connection)
            }
        case let other:
            throw ReplicationProtocolError.unexpectedFrame(expected: "ack or nack", got: other.name)
        }
    }

    private func throttle(sent: UInt64, since start: ContinuousClock.Instant) async throws {
        guard let rate = configuration.throttleBytesPerSecond, rate > 0 else { return }
        let due = Double(sent) / Double(rate)
        let elapsed = Self.seconds(start.duration(to: .now))
        if due > elapsed { try await Task.sleep(for: .milliseconds(Int((due - elapsed) * 1000))) }
    }

    package static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        let wordPointer = bytes.baseAddress!.assumingMemoryBound(to: UInt64.self)
        for i in 0..<words where wordPointer[i] != 0 { return false }
        for i in (words * 8)..<bytes.count where bytes[i] != 0 { return false }
        return true
    }

    package static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    package static func progress(pass: UInt64, done: UInt64, total: UInt64, sent: UInt64, since start: ContinuousClock.Instant) -> AgentProgress {
        let elapsed = seconds(start.duration(to: .now))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        return AgentProgress(pass: pass, bytesDone: done, bytesTotal: total, bytesSent: sent, bytesPerSecond: rate, etaSeconds: rate > 0 ? Double(total - min(done, total)) / rate : nil)
    }
}

/// The pass's block buffer, lent to the thread that reads into it and given back after, so
/// that 512 KiB are neither copied nor allocated per block.
private final class BlockBuffer: @unchecked Sendable {
    // @unchecked: one read at a time has it; the pass touches it again only after that
    // read has returned (the await orders the two).
    package var bytes: [UInt8] = []

    package init(swapping buffer: inout [UInt8]) { Swift.swap(&bytes, &buffer) }

    package func swap(back buffer: inout [UInt8]) { Swift.swap(&bytes, &buffer) }
}
