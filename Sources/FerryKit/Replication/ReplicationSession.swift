import FerryCore
import FerryReplication
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// One agent connection on the replication server: handshake, registration, blocks, commits.
final class ReplicationSession: Sendable {
    private let server: ReplicationServer
    private let channel: any Channel
    private let peer: String
    private let seal: ReplicationFrameSeal
    private let state = Mutex(State())

    struct State {
        var lastFrameAt = ContinuousClock.now
        var authenticated = false
        /// The token this connection proved: when the project's token is rotated, the
        /// connections that proved the old one are closed.
        var token: Secret?
        var lastTokenCheck = ContinuousClock.now
        var stalled = false
        var identity: String?
        var sourceServerID: String?
        var diskSizes: [Int: UInt64] = [:]
        /// The agent said goodbye: its replication stopped, it was not lost.
        var endedCleanly = false
        /// The agent reports its writes as tracked (a `tracking` frame): its lag comes with
        /// its progress.
        var writeTracked = false
        var lastMetricsWrite = ContinuousClock.now - .seconds(10)
        var passStartedAt = ContinuousClock.now
    }

    init(server: ReplicationServer, channel: any Channel, peer: String, seal: ReplicationFrameSeal) {
        self.server = server
        self.channel = channel
        self.peer = peer
        self.seal = seal
    }

    private var workspace: Workspace { server.workspace }
    private var store: StagingStore { server.store }

    // MARK: Watchdog

    /// Closes a connection that does not authenticate in time, marks a silent agent STALLED,
    /// and closes it when it stays silent.
    func watch() async throws {
        let configuration = server.configuration
        while !Task.isCancelled {
            try await Task.sleep(for: .milliseconds(250))
            let (quiet, authenticated, serverID, stalled) = state.withLock { ($0.lastFrameAt.duration(to: .now), $0.authenticated, $0.sourceServerID, $0.stalled) }
            if !authenticated, quiet > configuration.handshakeTimeout {
                throw ReplicationProtocolError.authenticationFailed("no handshake from \(peer) within \(configuration.handshakeTimeout)")
            }
            if let serverID, quiet > configuration.stallAfter, !stalled {
                state.withLock { $0.stalled = true }
                try workspace.sourceServers.recordIfAllowed(.stall, for: serverID)
                try workspace.sourceServers.update(serverID) {
                    $0.replicationMetrics.replicationError = "no data from the agent (\(peer)) for \(Int(quiet.components.seconds)) s"
                }
            }
            if try tokenWasRotated() {
                throw ReplicationProtocolError.authenticationFailed("the project's token was rotated; \(peer) proved the old one")
            }
            if quiet > configuration.disconnectAfter {
                throw ReplicationProtocolError.connectionClosed("after \(configuration.disconnectAfter) without a frame from \(peer)")
            }
        }
    }

    /// Every 2 seconds: whether the token file now holds another token than the one this
    /// connection proved. The connection then closes; the agent, reconnecting with its old
    /// token, is refused at the handshake, as any holder of a wrong token is.
    private func tokenWasRotated() throws -> Bool {
        let proven = state.withLock { s -> Secret? in
            guard let token = s.token, s.lastTokenCheck.duration(to: .now) >= .seconds(2) else { return nil }
            s.lastTokenCheck = .now
            return token
        }
        guard let proven else { return false }
        return try server.tokens.read() != proven
    }

    // MARK: Frames

    func run(inbound: NIOAsyncChannelInboundStream<ReplicationFrame>, outbound: NIOAsyncChannelOutboundWriter<ReplicationFrame>) async throws {
        let serverNonce = ReplicationAuthentication.makeNonce()
        try await outbound.write(.challenge(version: ReplicationProtocol.version, serverNonce: serverNonce))
        for try await frame in inbound {
            let wasStalled = state.withLock { s -> Bool in
                s.lastFrameAt = .now
                defer { s.stalled = false }
                return s.stalled
            }
            if wasStalled, let id = state.withLock({ $0.sourceServerID }) {
                // Back from silence: the agent's view may be stale, so its next pass is a rescan.
                try workspace.sourceServers.recordIfAllowed(.beginRescan, for: id)
                try workspace.sourceServers.update(id) { $0.replicationMetrics.replicationError = nil }
            }
            if case .block = frame { state.withLock { $0.endedCleanly = false } }
            if case .trim = frame { state.withLock { $0.endedCleanly = false } }
            if case .patch = frame { state.withLock { $0.endedCleanly = false } }
            guard state.withLock({ $0.authenticated }) else {
                try await authenticate(frame, serverNonce: serverNonce, outbound: outbound)
                continue
            }
            switch frame {
            case .register(let identity, let factsJSON):
                try await register(identity: identity, factsJSON: factsJSON, outbound: outbound)
            case .block(let disk, let index, let sha, let compressed, let data):
                try await receiveBlock(disk: disk, index: index, sha256: sha, compressed: compressed, data: data, outbound: outbound)
            case .patch(let disk, let index, let base, let pages, let data):
                try await receivePatch(disk: disk, index: index, base: base, pages: pages, data: data, outbound: outbound)
            case .trim(let disk, let index):
                let id = try registeredServer()
                try checkBlock(disk: disk, index: index)
                try await offPool { [store] in try store.trimReplicaBlock(sourceServerID: id, diskIndex: Int(disk), blockIndex: index) }
                server.counters.withLock { $0.trims += 1 }
                try await outbound.write(.ack(disk: disk, index: index))
            case .progress(_, let done, let total, let backlog, let oldest):
                try recordProgress(done: done, total: total, backlog: backlog, oldestPendingWrite: oldest)
            case .tracking(let rescanning, let description):
                let id = try registeredServer()
                state.withLock { $0.writeTracked = true }
                try workspace.sourceServers.update(id) { $0.replicationMetrics.writeTracking = description }
                // Not rescanning: the scan is done, or a tracked agent resumed with its trace
                // unbroken (no scan needed) — a RESCAN that registration assumed is over.
                if rescanning {
                    try workspace.sourceServers.recordIfAllowed(.beginRescan, for: id)
                } else {
                    try workspace.sourceServers.recordIfAllowed(.completeRescan, for: id)
                }
            case .endOfPass(let pass, let sourceTime):
                try await commit(pass: pass, sourceTime: sourceTime, outbound: outbound)
            case .heartbeat:
                break
            case .goodbye:
                state.withLock { $0.endedCleanly = true }
            default:
                throw ReplicationProtocolError.unexpectedFrame(expected: "register, block, trim, progress, end-of-pass, heartbeat or goodbye", got: frame.name)
            }
        }
    }

    private func authenticate(_ frame: ReplicationFrame, serverNonce: [UInt8], outbound: NIOAsyncChannelOutboundWriter<ReplicationFrame>) async throws {
        guard case .authenticate(let version, let agentNonce, let proof) = frame else {
            try await refuse("expected an authenticate frame, got \(frame.name)", outbound: outbound)
            throw ReplicationProtocolError.unexpectedFrame(expected: "authenticate", got: frame.name)
        }
        guard version == ReplicationProtocol.version else {
            try await refuse("protocol version \(version) is not supported; this server speaks \(ReplicationProtocol.version)", outbound: outbound)
            throw ReplicationProtocolError.versionMismatch(ours: ReplicationProtocol.version, theirs: version)
        }
        let token = try server.tokens.read()
        let expected = ReplicationAuthentication.agentProof(token: token, serverNonce: serverNonce, agentNonce: agentNonce)
        guard agentNonce.count == ReplicationProtocol.nonceLength, ReplicationAuthentication.verify(proof, equals: expected) else {
            try await refuse("authentication failed: the agent does not hold this project's token (`ferry agent token` on the workbench shows the current one; it may have been rotated)", outbound: outbound)
            throw ReplicationProtocolError.authenticationFailed("wrong token from \(peer)")
        }
        state.withLock {
            $0.authenticated = true
            $0.token = token
        }
        // Every frame after the welcome is sealed, both ways.
        seal.activate(token: token, serverNonce: serverNonce, agentNonce: agentNonce, role: .server)
        try await outbound.write(.welcome(serverProof: ReplicationAuthentication.serverProof(token: token, serverNonce: serverNonce, agentNonce: agentNonce)))
    }

    private func refuse(_ reason: String, outbound: NIOAsyncChannelOutboundWriter<ReplicationFrame>) async throws {
        server.counters.withLock { $0.connectionsRefused += 1 }
        try? await outbound.write(.refused(reason: reason))
    }

    private func register(identity: String, factsJSON: [UInt8], outbound: NIOAsyncChannelOutboundWriter<ReplicationFrame>) async throws {
        guard state.withLock({ $0.identity == nil }) else { throw ReplicationProtocolError.unexpectedFrame(expected: "block", got: "a second register") }
        let facts: MachineFacts
        do {
            facts = try JSONColumn.decode(MachineFacts.self, from: String(decoding: factsJSON, as: UTF8.self))
        } catch {
            try await refuse("the machine's facts are not valid: \(error)", outbound: outbound)
            throw ReplicationProtocolError.malformed("register frame facts: \(error)")
        }
        if let disk = facts.disks.first(where: { $0.sizeBytes > ReplicationProtocol.maximumDiskSize }) {
            try await refuse("disk \(disk.name) is \(disk.sizeBytes) bytes, more than the \(ReplicationProtocol.maximumDiskSize >> 40) TiB a replicated disk may have", outbound: outbound)
            throw ReplicationProtocolError.malformed("register frame: disk \(disk.name) of \(disk.sizeBytes) bytes")
        }
        // The token was proven: this connection takes over from an older one of the same machine.
        let previous = server.connected.withLock { sessions -> ReplicationSession? in
            defer { sessions[identity] = self }
            return sessions[identity]
        }
        if let previous {
            server.logger.notice("agent reconnected; closing its previous connection", metadata: ["identity": "\(identity)", "peer": "\(peer)"])
            previous.channel.close(promise: nil)
        }
        state.withLock { $0.identity = identity }
        let (id, inventories) = try await offPool { [workspace, store] in
            let registered = try workspace.sourceServers.register(agentIdentity: identity, facts: facts, adapter: "agent")
            let id = registered.id
            try store.setReplicaDisks(sourceServerID: id, disks: facts.disks)
            if registered.dataReplicationState != .stopped, registered.dataReplicationState != .disconnected, registered.dataReplicationState != .stalled {
                try workspace.sourceServers.recordIfAllowed(.stop, for: id)
            }
            try workspace.sourceServers.recordIfAllowed(.start, for: id)
            let hasSnapshot = try !store.snapshots(sourceServerID: id).isEmpty
            try workspace.sourceServers.recordIfAllowed(.beginInitialSync, for: id)
            if hasSnapshot {
                // A machine that was replicated before resumes by comparing every block: a rescan.
                try workspace.sourceServers.recordIfAllowed(.completeInitialSync, for: id)
                try workspace.sourceServers.recordIfAllowed(.beginRescan, for: id)
            }
            try workspace.sourceServers.update(id) {
                $0.replicationMetrics.totalBytes = facts.disks.reduce(0) { $0 + $1.sizeBytes }
                $0.replicationMetrics.replicationError = nil
            }
            let inventories = try facts.disks.indices.map { try store.replicaBlocks(sourceServerID: id, diskIndex: $0).sorted { $0.key < $1.key } }
            return (id, inventories)
        }
        let sizes = Dictionary(uniqueKeysWithValues: facts.disks.enumerated().map { ($0.offset, $0.element.sizeBytes) })
        state.withLock {
            $0.sourceServerID = id
            $0.diskSizes = sizes
            $0.passStartedAt = .now
        }

        server.logger.info("agent registered", metadata: ["sourceServer": "\(id)", "hostname": "\(facts.hostname)", "peer": "\(peer)", "disks": "\(facts.disks.count)"])
        try await outbound.write(.registered(sourceServerID: id))
        for (disk, held) in inventories.enumerated() {
            var start = 0
            repeat {
                let slice = held[start..<min(start + ReplicationProtocol.inventoryEntriesPerFrame, held.count)]
                try await outbound.write(.inventory(disk: UInt32(disk), entries: slice.map { .init(index: $0.key, sha256: $0.value.bytes) }))
                start += ReplicationProtocol.inventoryEntriesPerFrame
            } while start < held.count
        }
        try await outbound.write(.inventoryEnd)
    }

    private func registeredServer() throws -> String {
        guard let id = state.withLock({ $0.sourceServerID }) else {
            throw ReplicationProtocolError.unexpectedFrame(expected: "register", got: "data before registration")
        }
        return id
    }

    private func checkBlock(disk: UInt32, index: UInt64) throws {
        guard let size = state.withLock({ $0.diskSizes[Int(disk)] }) else {
            throw ReplicationProtocolError.malformed("block for disk \(disk), which the agent did not register")
        }
        guard index < DiskSize.blocks(size, of: UInt64(ReplicationProtocol.blockSize)) else {
            throw ReplicationProtocolError.malformed("block \(index) is past the end of disk \(disk) (\(size) bytes)")
        }
    }

    private func receiveBlock(disk: UInt32, index: UInt64, sha256: [UInt8], compressed: Bool, data: ByteBuffer, outbound: NIOAsyncChannelOutboundWriter<ReplicationFrame>) async throws {
        let id = try registeredServer()
        try checkBlock(disk: disk, index: index)
        server.counters.withLock {
            $0.blocksReceived += 1
            $0.blockBytesReceived += UInt64(data.readableBytes)
        }
        // Inflating, hashing and storing run on the thread pool: a pwrite and a SQLite
        // transaction must not hold one of the two threads every connection shares.
        let outcome = try await offPool { [store] () throws -> BlockOutcome in
        let inflated = compressed ? try data.withUnsafeReadableBytes { try BlockCompression.decompress($0, expectedLength: ReplicationProtocol.blockSize) } : nil
        // The block's bytes: inflated, or the received frame's own buffer, uncopied.
        let check = { (block: UnsafeRawBufferPointer) -> BlockOutcome in
            guard block.count == ReplicationProtocol.blockSize else { return .refused("block is \(block.count) bytes, not \(ReplicationProtocol.blockSize)") }
            guard let claimed = ChunkHash(bytes: sha256), ChunkHash(hashing: block) == claimed else { return .refused("SHA-256 mismatch") }
            do {
                return .stored(written: try store.storeBlock(block, hash: claimed, sourceServerID: id, diskIndex: Int(disk), blockIndex: index))
            } catch {
                return .storeFailed(error)
            }
        }
        return if let inflated { inflated.withUnsafeBytes(check) } else { data.withUnsafeReadableBytes(check) }
        }
        switch outcome {
        case .refused(let reason):
            // Never stored: the agent reads the block again and resends it.
            server.counters.withLock { $0.blocksRejected += 1 }
            try await outbound.write(.nack(disk: disk, index: index, reason: reason))
        case .storeFailed(let error):
            // Tell the agent why (a full disk, say) before the connection closes: it keeps
            // what it has not had acknowledged and sends it again when it reconnects.
            try? await outbound.write(.failed(reason: "it could not store block \(index) of disk \(disk): \(error)"))
            throw error
        case .stored(let written):
            if written { server.counters.withLock { $0.chunksWritten += 1 } }
            try await outbound.write(.ack(disk: disk, index: index))
        }
    }

    /// Writes the pages over the block this server holds, if it holds the version the agent
    /// patched (else `nack`: the agent sends the whole block), and stores the result.
    private func receivePatch(disk: UInt32, index: UInt64, base: [UInt8], pages: [UInt8], data: ByteBuffer,
                              outbound: NIOAsyncChannelOutboundWriter<ReplicationFrame>) async throws {
        let id = try registeredServer()
        try checkBlock(disk: disk, index: index)
        server.counters.withLock {
            $0.blocksReceived += 1
            $0.blockBytesReceived += UInt64(data.readableBytes)
        }
        let outcome = try await offPool { [store] () throws -> (BlockOutcome, ChunkHash?) in
            guard let held = try store.replicaBlock(sourceServerID: id, diskIndex: Int(disk), blockIndex: index), held.bytes == base else {
                return (.refused("the patch is of a version of the block this server does not hold"), nil)
            }
            var block = [UInt8](repeating: 0, count: ReplicationProtocol.blockSize)
            try block.withUnsafeMutableBytes { try store.readChunk(held, into: $0) }
            data.withUnsafeReadableBytes { bytes in
                for (n, page) in pages.enumerated() {
                    let at = Int(page) * ReplicationProtocol.pageSize
                    block.replaceSubrange(at..<at + ReplicationProtocol.pageSize,
                                          with: UnsafeRawBufferPointer(rebasing: bytes[n * ReplicationProtocol.pageSize..<(n + 1) * ReplicationProtocol.pageSize]))
                }
            }
            return try block.withUnsafeBytes { bytes in
                let hash = ChunkHash(hashing: bytes)
                do {
                    return (.stored(written: try store.storeBlock(bytes, hash: hash, sourceServerID: id, diskIndex: Int(disk), blockIndex: index)), hash)
                } catch {
                    return (.storeFailed(error), nil)
                }
            }
        }
        switch outcome {
        case (.refused(let reason), _):
            server.counters.withLock { $0.blocksRejected += 1 }
            try await outbound.write(.nack(disk: disk, index: index, reason: reason))
        case (.storeFailed(let error), _):
            try? await outbound.write(.failed(reason: "it could not store block \(index) of disk \(disk): \(error)"))
            throw error
        case (.stored(let written), let hash?):
            if written { server.counters.withLock { $0.chunksWritten += 1 } }
            try await outbound.write(.patched(disk: disk, index: index, sha256: hash.bytes))
        case (.stored, nil):
            throw ReplicationProtocolError.malformed("a patch stored without its hash")
        }
    }

    private enum BlockOutcome: Sendable {
        case refused(String)
        case stored(written: Bool)
        case storeFailed(any Error)
    }

    private func recordProgress(done: UInt64, total: UInt64, backlog: UInt64, oldestPendingWrite: Double) throws {
        let id = try registeredServer()
        let (due, startedAt, tracked) = state.withLock { s -> (Bool, ContinuousClock.Instant, Bool) in
            let due = s.lastMetricsWrite.duration(to: .now) > .milliseconds(500)
            if due { s.lastMetricsWrite = .now }
            return (due, s.passStartedAt, s.writeTracked)
        }
        guard due else { return }
        let elapsed = Double(startedAt.duration(to: .now).components.seconds) + Double(startedAt.duration(to: .now).components.attoseconds) / 1e18
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let server = try workspace.sourceServers.update(id) { server in
            var metrics = server.replicationMetrics
            metrics.replicatedBytes = min(done, total)
            metrics.backlogBytes = backlog
            metrics.etaSeconds = rate > 0 ? Double(backlog) / rate : nil
            // Lag, as MGN means it: the age of the oldest write not yet in a committed point.
            // A tracked agent knows it; one that rescans only knows its last point's age.
            metrics.oldestUncommittedWriteAt = oldestPendingWrite > 0 ? Date(timeIntervalSince1970: oldestPendingWrite) : nil
            if oldestPendingWrite > 0 {
                metrics.lagSeconds = max(0, Date().timeIntervalSince1970 - oldestPendingWrite)
            } else if tracked {
                metrics.lagSeconds = 0
            } else {
                metrics.lagSeconds = metrics.lastSnapshotAt.map { Date().timeIntervalSince($0) }
            }
            metrics.lastSeenAt = Date()
            server.replicationMetrics = metrics
        }
        // Much written and not yet sent: BACKLOG. All sent but the oldest write waits too long
        // for a point (a tracked agent knows; an untracked one's lag is only its last point's
        // age, which grows on an idle disk too): LAGGING. Back to CONTINUOUS at the next commit,
        // or as soon as the lag is under the threshold again.
        let lag = server.replicationMetrics.lagSeconds ?? 0
        if backlog >= DataReplicationThresholds.backlogBytes {
            try workspace.sourceServers.recordIfAllowed(.fallBehind, for: id)
        } else if oldestPendingWrite > 0, lag > DataReplicationThresholds.laggingSeconds {
            try workspace.sourceServers.recordIfAllowed(.fallBehindInTime, for: id)
        } else if server.dataReplicationState == .lagging {
            try workspace.sourceServers.recordIfAllowed(.catchUp, for: id)
        }
    }

    private func commit(pass: UInt64, sourceTime: Double, outbound: NIOAsyncChannelOutboundWriter<ReplicationFrame>) async throws {
        let id = try registeredServer()
        let snapshot: Snapshot
        do {
            snapshot = try await offPool { [workspace, store] in try Self.commit(id, sourceTime: sourceTime, workspace: workspace, store: store) }
        } catch {
            try? await outbound.write(.failed(reason: "it could not commit pass \(pass): \(error)"))
            throw error
        }
        server.counters.withLock { $0.snapshotsCommitted += 1 }
        state.withLock { $0.passStartedAt = .now }
        server.logger.info("pass committed", metadata: ["sourceServer": "\(id)", "pass": "\(pass)", "snapshot": "\(snapshot.id)"])
        try await outbound.write(.committed(pass: pass, snapshotID: snapshot.id))
    }

    /// Commits the replica as a snapshot, moves the server's states and metrics, and applies
    /// retention: the database and file work of a commit, on a thread of the pool.
    private static func commit(_ id: String, sourceTime: Double, workspace: Workspace, store: StagingStore) throws -> Snapshot {
        // CREATING_SNAPSHOT while the point of an initial sync or a rescan is committed, as MGN
        // shows between the last block and the first snapshot.
        let before = try workspace.sourceServers.find(id: id).dataReplicationState
        try workspace.sourceServers.recordIfAllowed(.beginSnapshot, for: id)
        let snapshot = try store.commitSnapshot(sourceServerID: id)
        let current = try workspace.sourceServers.find(id: id)
        switch before {
        case .initialSync: try workspace.sourceServers.recordIfAllowed(.completeInitialSync, for: id)
        case .rescan: try workspace.sourceServers.recordIfAllowed(.completeRescan, for: id)
        case .backlog, .lagging: try workspace.sourceServers.recordIfAllowed(.catchUp, for: id)
        default: break
        }
        if current.lifecycleState == .notReady {
            try workspace.sourceServers.perform(.completeInitialSync, on: id)
        }
        let sourceChangedAt = Date(timeIntervalSince1970: sourceTime)
        try workspace.sourceServers.update(id) { server in
            server.replicationMetrics.lastSnapshotAt = snapshot.takenAt
            server.replicationMetrics.backlogBytes = 0
            server.replicationMetrics.etaSeconds = 0
            server.replicationMetrics.replicatedBytes = server.replicationMetrics.totalBytes
            // Lag: how far the committed point is behind the moment the agent began reading.
            server.replicationMetrics.lagSeconds = max(0, snapshot.takenAt.timeIntervalSince(sourceChangedAt))
            server.replicationMetrics.oldestUncommittedWriteAt = nil
            server.replicationMetrics.lastSeenAt = Date()
        }
        let settings = current.replicationSettings
        try store.applyRetention(sourceServerID: id, keep: settings.snapshotRetentionCount, tiers: settings.snapshotRetentionTiers ?? SnapshotRetentionTier.defaults)
        return snapshot
    }

    /// Runs database and file work on NIO's thread pool, off the cooperative threads that
    /// every connection (and the accept loop) share.
    private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    /// Called when the connection is gone.
    func finish() {
        let (identity, id, clean) = state.withLock { ($0.identity, $0.sourceServerID, $0.endedCleanly) }
        guard let identity else { return }
        // A session that was taken over leaves the machine's state to the one that replaced it.
        let current = server.connected.withLock { sessions -> Bool in
            guard sessions[identity] === self else { return false }
            sessions[identity] = nil
            return true
        }
        guard current, let id else { return }
        // An agent that said goodbye stopped replicating. Any other end is a
        // lost agent: STALLED, as MGN says while an agent does not reach its server, until it
        // comes back or the server gives up on it (DISCONNECTED, `ReplicationServer.lostAgents`).
        if clean {
            _ = try? workspace.sourceServers.recordIfAllowed(.stop, for: id)
            return
        }
        _ = try? workspace.sourceServers.recordIfAllowed(.stall, for: id)
        let time = Date().formatted(.iso8601.time(includingFractionalSeconds: false))
        _ = try? workspace.sourceServers.update(id) {
            $0.replicationMetrics.replicationError = "the connection from the agent (\(peer)) was lost at \(time) UTC; waiting for the agent to connect again"
        }
        server.lost(identity: identity, sourceServerID: id)
    }
}
