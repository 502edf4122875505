import FerryCore
@testable import FerryReplication
@testable import FerryKit
import Foundation
import NIOCore
import NIOPosix
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Replication over loopback", .serialized)
struct ReplicationLoopbackTests {
    static let block = ReplicationProtocol.blockSize
    static let mib = 1 << 20

    @Test func aSparseDiskReplicatesByteIdenticalWithoutSendingZeros() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let regions: [(UInt64, Int)] = [(0, 3 * Self.mib), (UInt64(40 * Self.mib + 1234), 700_000), (UInt64(63 * Self.mib), Self.mib)]
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(64 * Self.mib), regions: regions, seed: 1)
        let summaries = try await fixture.replicate(try fixture.agent(disks: [disk]))

        let summary = try #require(summaries.first)
        // 6 blocks of the first region, 2 or 3 around the second, 2 for the last one.
        let dataBlocks = ByteRange.blockIndexes(covering: regions.map { ByteRange(offset: $0.0, length: UInt64($0.1)) }, blockSize: UInt64(Self.block)).count
        #expect(summary.blocksSent == dataBlocks)
        #expect(fixture.server.statistics.blockBytesReceived == UInt64(dataBlocks * Self.block))

        let store = try StagingStore(workspace: fixture.workspace)
        let exported = fixture.directory.appendingPathComponent("export.raw").path
        try store.exportRaw(snapshotID: summary.snapshotID, diskIndex: 0, to: exported)
        #expect(try Data(contentsOf: URL(fileURLWithPath: exported)) == Data(try disk.contents()))
        #expect(try store.verify(snapshotID: summary.snapshotID).isIntact)

        let server = try #require(try fixture.workspace.sourceServers.list().first)
        #expect(server.lifecycleState == .readyForTest)
        #expect(server.replicationMetrics.lastSnapshotAt != nil)
    }

    @Test func aSecondPassSendsOnlyChangedBlocksAndTheFirstSnapshotStaysAsItWas() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(64 * Self.mib), regions: [(0, 64 * Self.mib)], seed: 2)
        let original = try disk.contents()
        let first = try #require(try await fixture.replicate(try fixture.agent(disks: [disk])).first)
        #expect(first.blocksSent == 128)

        // Change 2 of the 128 blocks (about 1.5%), one of them only by a byte, and zero a third.
        try disk.write([0xff], at: UInt64(10 * Self.block + 17))
        try disk.write([UInt8](repeating: 0x42, count: 4096), at: UInt64(77 * Self.block))
        try disk.write([UInt8](repeating: 0, count: Self.block), at: UInt64(100 * Self.block))
        let before = fixture.server.statistics.blockBytesReceived
        let second = try #require(try await fixture.replicate(try fixture.agent(disks: [disk])).first)
        #expect(second.blocksSent == 2)
        #expect(second.blocksTrimmed == 1)
        #expect(fixture.server.statistics.blockBytesReceived - before <= UInt64(Double(2 * Self.block) * 1.1))

        let store = try StagingStore(workspace: fixture.workspace)
        let newExport = fixture.directory.appendingPathComponent("second.raw").path
        try store.exportRaw(snapshotID: second.snapshotID, diskIndex: 0, to: newExport)
        #expect(try Data(contentsOf: URL(fileURLWithPath: newExport)) == Data(try disk.contents()))
        let oldExport = fixture.directory.appendingPathComponent("first.raw").path
        try store.exportRaw(snapshotID: first.snapshotID, diskIndex: 0, to: oldExport)
        #expect(try Data(contentsOf: URL(fileURLWithPath: oldExport)) == Data(original))
    }

    /// A server's retention, changed while it replicates (what `ferry source retention`
    /// does), is what the replication server applies at the next commit.
    @Test func theRetentionSetOnAServerIsAppliedAtItsNextCommit() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(4 * Self.mib), regions: [(0, Self.mib)], seed: 6)
        for pass in 0..<4 {
            try disk.write([UInt8(pass + 1)], at: UInt64(pass * Self.block))
            _ = try await fixture.replicate(try fixture.agent(disks: [disk]))
        }
        let store = try StagingStore(workspace: fixture.workspace)
        let server = try #require(try fixture.workspace.sourceServers.list().first)
        #expect(try store.snapshots(sourceServerID: server.id).count == 4, "seven kept by default")

        _ = try fixture.workspace.sourceServers.update(server.id) { server in
            server.replicationSettings.snapshotRetentionCount = 2
            server.replicationSettings.snapshotRetentionTiers = []
        }
        try disk.write([9], at: UInt64(5 * Self.block))
        let last = try #require(try await fixture.replicate(try fixture.agent(disks: [disk])).first)
        let kept = try store.snapshots(sourceServerID: server.id)
        #expect(kept.count == 2 && kept.contains { $0.id == last.snapshotID }, "\(kept.map(\.id))")
    }

    @Test func compressedBlocksArriveIntact() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(8 * Self.mib), regions: [], seed: 3)
        try disk.write(Array(repeating: Array("compressible text ".utf8), count: 20000).flatMap { $0 }, at: 0)
        let summary = try #require(try await fixture.replicate(try fixture.agent(disks: [disk], compress: true)).first)
        #expect(summary.bytesSent < UInt64(summary.blocksSent * Self.block) / 4)
        let exported = fixture.directory.appendingPathComponent("c.raw").path
        try StagingStore(workspace: fixture.workspace).exportRaw(snapshotID: summary.snapshotID, diskIndex: 0, to: exported)
        #expect(try Data(contentsOf: URL(fileURLWithPath: exported)) == Data(try disk.contents()))
    }

    @Test func identicalBlocksAcrossMachinesAreStoredOnce() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let a = try TestDiskImage(in: fixture.directory, size: UInt64(4 * Self.mib), regions: [(0, 4 * Self.mib)], seed: 9)
        let b = try TestDiskImage(in: fixture.directory, size: UInt64(4 * Self.mib), regions: [(0, 4 * Self.mib)], seed: 9)
        _ = try await fixture.replicate(try fixture.agent(disks: [a], identity: "machine-a"))
        _ = try await fixture.replicate(try fixture.agent(disks: [b], identity: "machine-b"))
        #expect(try StagingStore(workspace: fixture.workspace).chunkCount() == 8)
        #expect(fixture.server.statistics.chunksWritten == 8)
        #expect(try fixture.workspace.sourceServers.list().count == 2)
    }

    @Test func aWrongTokenIsRefusedAndTheServerServesTheNextAgent() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(Self.mib), regions: [(0, 1000)], seed: 4)
        let error = await #expect(throws: ReplicationProtocolError.self) {
            try await fixture.replicate(try fixture.agent(disks: [disk], token: Secret("not-the-token")))
        }
        #expect(error?.description.contains("authentication failed") == true)
        #expect(fixture.server.statistics.blocksReceived == 0)
        #expect(try fixture.workspace.sourceServers.list().isEmpty)
        #expect(try await fixture.replicate(try fixture.agent(disks: [disk])).count == 1)
    }

    @Test func aGarbageHandshakeIsRefusedAndTheServerStaysUp() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        // Random bytes, then a huge length prefix, then a valid frame that is not an authentication.
        for payload in [[UInt8](repeating: 0x41, count: 300), [0xff, 0xff, 0xff, 0xff, 2], ReplicationFrameCodec.encode(.register(agentIdentity: "x", factsJSON: []))] {
            let reply = try rawExchange(port: fixture.port, send: payload)
            // Before TLS the server spoke first, its challenge in clear; now the only answer
            // to bytes that are not a TLS handshake is a TLS alert (21), or nothing.
            #expect(reply.isEmpty || reply.first == 21, "\(reply.prefix(8))")
        }
        #expect(fixture.server.statistics.blocksReceived == 0)
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(Self.mib), regions: [(0, 1000)], seed: 5)
        #expect(try await fixture.replicate(try fixture.agent(disks: [disk])).count == 1)
    }

    @Test func aSilentConnectionIsClosedAfterTheHandshakeTimeout() async throws {
        let fixture = try await ReplicationFixture(handshakeTimeout: .milliseconds(500))
        defer { fixture.stop() }
        let started = ContinuousClock.now
        let reply = try rawExchange(port: fixture.port, send: [])
        #expect(reply.isEmpty, "nothing is said in clear to a peer that does not start TLS")
        // Well under the default 10 s timeout, with room for a loaded machine.
        #expect(started.duration(to: .now) < .seconds(9))
    }

    @Test func aBlockWhoseHashDoesNotMatchIsRefusedAndNeverStored() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let (channel, channelSeal) = try await handDrivenConnection(port: fixture.port, pin: try fixture.pin)
        let token = try fixture.token
        try await channel.executeThenClose { inbound, outbound in
            var connection = AgentConnection(frames: inbound.makeAsyncIterator(), outbound: outbound, seal: channelSeal)
            try await connection.handshake(token: token)
            let facts = MachineFacts(hostname: "h", disks: [DiskFacts(name: "d", sizeBytes: UInt64(Self.mib), locator: "d")])
            try await connection.send(.register(agentIdentity: "hand-driven", factsJSON: Array(try JSONColumn.encode(facts).utf8)))
            _ = try await connection.readRegistration(diskCount: 1)
            let data = [UInt8](repeating: 7, count: Self.block)
            let wrongHash = ChunkHash(hashing: [UInt8](repeating: 8, count: Self.block))
            try await connection.send(.block(disk: 0, index: 0, sha256: wrongHash.bytes, compressed: false, data: ByteBuffer(bytes: data)))
            guard case .nack(0, 0, let reason) = try await connection.next() else {
                Issue.record("expected a nack")
                return
            }
            #expect(reason.contains("SHA-256"))
            try await connection.send(.block(disk: 0, index: 0, sha256: ChunkHash(hashing: data).bytes, compressed: false, data: ByteBuffer(bytes: data)))
            #expect(try await connection.next() == .ack(disk: 0, index: 0))
        }
        let store = try StagingStore(workspace: fixture.workspace)
        #expect(try store.chunkCount() == 1)
        #expect(try !store.hasChunk(ChunkHash(hashing: [UInt8](repeating: 8, count: Self.block))))
        #expect(fixture.server.statistics.blocksRejected == 1)
    }

    @Test func aRestartedAgentTakesOverFromItsOldConnection() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let token = try fixture.token
        let facts = Array(try JSONColumn.encode(MachineFacts(hostname: "h", disks: [DiskFacts(name: "d", sizeBytes: UInt64(Self.mib), locator: "d")])).utf8)
        let (old, oldSeal) = try await handDrivenConnection(port: fixture.port, pin: try fixture.pin)
        try await old.executeThenClose { oldInbound, oldOutbound in
            var first = AgentConnection(frames: oldInbound.makeAsyncIterator(), outbound: oldOutbound, seal: oldSeal)
            try await first.handshake(token: token)
            try await first.send(.register(agentIdentity: "same-machine", factsJSON: facts))
            let (firstID, _) = try await first.readRegistration(diskCount: 1)

            // The same machine connects again while the old connection is still open.
            let (new, newSeal) = try await handDrivenConnection(port: fixture.port, pin: try fixture.pin)
            try await new.executeThenClose { inbound, outbound in
                var second = AgentConnection(frames: inbound.makeAsyncIterator(), outbound: outbound, seal: newSeal)
                try await second.handshake(token: token)
                try await second.send(.register(agentIdentity: "same-machine", factsJSON: facts))
                let (secondID, _) = try await second.readRegistration(diskCount: 1)
                #expect(secondID == firstID)
                // The old connection is closed by the server.
                await #expect(throws: ReplicationProtocolError.self) { _ = try await first.next() }
                let data = [UInt8](repeating: 3, count: Self.block)
                try await second.send(.block(disk: 0, index: 1, sha256: ChunkHash(hashing: data).bytes, compressed: false, data: ByteBuffer(bytes: data)))
                #expect(try await second.next() == .ack(disk: 0, index: 1))
                try await waitUntil(.seconds(5)) { (try? fixture.workspace.sourceServers.find(id: secondID).dataReplicationState) == .initialSync }
            }
        }
    }

    @Test func continuousModeCommitsAWriteWithinSeconds() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(8 * Self.mib), regions: [(0, Self.mib)], seed: 6)
        let summaries = SummaryBox()
        let agent = try fixture.agent(disks: [disk], continuous: true, interval: .seconds(60))
        let running = Task { try await agent.run { if case .committed(let s) = $0 { summaries.append(s) } } }
        defer { running.cancel() }
        try await waitUntil(.seconds(10)) { summaries.all.count >= 1 }
        let server = try #require(try fixture.workspace.sourceServers.list().first)
        #expect(try fixture.workspace.sourceServers.find(id: server.id).dataReplicationState == .continuous)

        let written = ContinuousClock.now
        try disk.write(Array("a post written during replication".utf8), at: UInt64(5 * Self.mib))
        try await waitUntil(.seconds(10)) { summaries.all.count >= 2 }
        #expect(written.duration(to: .now) < .seconds(5))
        let latest = try #require(summaries.all.last)
        #expect(latest.blocksSent == 1)
        let reader = try StagingStore(workspace: fixture.workspace).reader(snapshotID: latest.snapshotID, diskIndex: 0)
        #expect(String(decoding: try reader.read(at: UInt64(5 * Self.mib), count: 33), as: UTF8.self) == "a post written during replication")
        let metrics = try fixture.workspace.sourceServers.find(id: server.id).replicationMetrics
        #expect(metrics.lagSeconds != nil)
        #expect(metrics.backlogBytes == 0)
    }

    /// Silent, then gone: STALLED while the agent may come back, with why; DISCONNECTED once
    /// the server gives up on it. Before, a lost connection was DISCONNECTED at once, and
    /// nothing said why replication had stopped.
    @Test func aSilentAgentIsMarkedStalled() async throws {
        let fixture = try await ReplicationFixture(stallAfter: .milliseconds(600), disconnectAfter: .seconds(3))
        defer { fixture.stop() }
        let (channel, channelSeal) = try await handDrivenConnection(port: fixture.port, pin: try fixture.pin)
        let token = try fixture.token
        try await channel.executeThenClose { inbound, outbound in
            var connection = AgentConnection(frames: inbound.makeAsyncIterator(), outbound: outbound, seal: channelSeal)
            try await connection.handshake(token: token)
            let facts = MachineFacts(hostname: "quiet", disks: [DiskFacts(name: "d", sizeBytes: UInt64(Self.mib), locator: "d")])
            try await connection.send(.register(agentIdentity: "quiet", factsJSON: Array(try JSONColumn.encode(facts).utf8)))
            let (id, _) = try await connection.readRegistration(diskCount: 1)
            #expect(try fixture.workspace.sourceServers.find(id: id).dataReplicationState == .initialSync)
            try await waitUntil(.seconds(5)) { (try? fixture.workspace.sourceServers.find(id: id).dataReplicationState) == .stalled }
        }
        let server = try #require(try fixture.workspace.sourceServers.list().first)
        try await waitUntil(.seconds(5)) { (try? fixture.workspace.sourceServers.find(id: server.id).replicationMetrics.replicationError)??.contains("was lost at") == true }
        #expect(try fixture.workspace.sourceServers.find(id: server.id).dataReplicationState == .stalled)
        try await waitUntil(.seconds(8)) { (try? fixture.workspace.sourceServers.find(id: server.id).dataReplicationState) == .disconnected }
    }
}

/// A connection that a test drives frame by frame, as an agent would (or would not), and the
/// seal its codec shares with the `AgentConnection` that drives it.
func handDrivenConnection(port: Int, pin: CertificatePin) async throws -> (NIOAsyncChannel<ReplicationFrame, ReplicationFrame>, ReplicationFrameSeal) {
    let seal = ReplicationFrameSeal()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try ReplicationTLS.addClientHandler(to: channel, pin: pin, rejected: ReplicationTLS.PinRejection())
                return try ReplicationChannel.configure(channel, role: .agent, seal: seal)
            }
        }
    return (channel, seal)
}

/// Polls `condition` until it holds or `timeout` passes (then the test fails).
func waitUntil(_ timeout: Duration, _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not met within \(timeout)")
}

/// Connects with a plain socket, sends `bytes`, and returns what the server sent until it closed.
func rawExchange(port: Int, send bytes: [UInt8]) throws -> [UInt8] {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard connected == 0 else { throw ReplicationProtocolError.connectionClosed("connect failed") }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    if !bytes.isEmpty { _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        received += buffer[0..<n]
    }
    return received
}
