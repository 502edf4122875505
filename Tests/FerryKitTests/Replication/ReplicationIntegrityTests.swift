import FerryCore
@testable import FerryReplication
@testable import FerryKit
import Foundation
import NIOCore
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What the network, a second process or a full disk can do to replication, and what must
/// hold all the same: nothing forged is stored, nothing acknowledged is lost, and the agent
/// is told what happened.
@Suite("Replication integrity", .serialized)
struct ReplicationIntegrityTests {
    static let block = ReplicationProtocol.blockSize
    static let mib = 1 << 20

    /// A man in the middle changes a byte of a record that carries a block. Before the
    /// channel had TLS, frames were sealed with HMACs; now TLS refuses the record: the server
    /// closes the connection, stores nothing of it, and the agent sends again what was not
    /// acknowledged, so the snapshot is the source's.
    @Test func aChangedRecordIsRefusedAndSentAgain() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(4 * Self.mib), regions: [(0, 4 * Self.mib)], seed: 31)
        let changed = Mutex(0)
        let proxy = try TamperingProxy(upstreamPort: fixture.port) { connection, record in
            guard connection == 1, TLSRecord.carriesBlockData(record) else { return .pass(record) }
            let count = changed.withLock { $0 += 1; return $0 }
            return .pass(count == 3 ? TLSRecord.flipped(record) : record)
        }
        defer { proxy.stop() }

        let summary = try #require(try await fixture.replicate(try fixture.agent(disks: [disk], port: proxy.port)).last)
        #expect(changed.withLock { $0 } > 3)
        #expect(fixture.server.statistics.framesRejected == 1)
        #expect(try fixture.exported(summary.snapshotID) == Data(try disk.contents()))
    }

    /// The same in continuous mode. Before, a byte of a block's index flipped on the wire had
    /// the block stored at the wrong index and the agent exit on the acknowledgement it did
    /// not expect; now the agent reconnects once and sends what was not acknowledged.
    @Test func aFlippedByteOnTheWireIsSentAgainNotFatal() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(4 * Self.mib), regions: [(0, 4 * Self.mib)], seed: 32)
        let recordsSeen = Mutex(0)
        let proxy = try TamperingProxy(upstreamPort: fixture.port) { connection, record in
            guard connection == 1, TLSRecord.carriesBlockData(record) else { return .pass(record) }
            let count = recordsSeen.withLock { $0 += 1; return $0 }
            return .pass(count == 3 ? TLSRecord.flipped(record) : record)
        }
        defer { proxy.stop() }

        let commits = SummaryBox()
        let reconnects = Mutex(0)
        let agent = try fixture.agent(disks: [disk], continuous: true, interval: .seconds(60), port: proxy.port)
        let running = Task {
            try await agent.run { event in
                switch event {
                case .committed(let summary): commits.append(summary)
                case .reconnecting: reconnects.withLock { $0 += 1 }
                default: break
                }
            }
        }
        defer { running.cancel() }
        try await waitUntil(.seconds(20)) { commits.all.count >= 1 }
        #expect(reconnects.withLock { $0 } == 1)
        let summary = try #require(commits.all.first)
        #expect(try fixture.exported(summary.snapshotID) == Data(try disk.contents()))
    }

    /// The connection drops part-way through a one-shot pass. Before, the agent gave up with
    /// the socket's words; now it connects again and sends only what was not acknowledged.
    @Test func aOneShotAgentResumesAfterADroppedConnection() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(16 * Self.mib), regions: [(0, 16 * Self.mib)], seed: 33)
        let blocksSeen = Mutex(0)
        let proxy = try TamperingProxy(upstreamPort: fixture.port) { connection, record in
            guard connection == 1, TLSRecord.carriesBlockData(record) else { return .pass(record) }
            // A 512 KiB block crosses in 32 records of 16 KiB: the cut comes within block 20.
            return blocksSeen.withLock { $0 += 1; return $0 } > 20 * 32 ? .cut : .pass(record)
        }
        defer { proxy.stop() }

        let summaries = try await fixture.replicate(try fixture.agent(disks: [disk], port: proxy.port))
        let summary = try #require(summaries.last)
        // 32 blocks in all; of the 20 that reached the server before the cut, the window's
        // worth may not have been acknowledged, and only those are sent again.
        #expect(summary.blocksSent < 32, "the resumed pass sent \(summary.blocksSent) blocks")
        #expect(fixture.server.statistics.blocksReceived <= 32 + 16)
        #expect(try fixture.exported(summary.snapshotID) == Data(try disk.contents()))
    }

    /// No server: the agent's error names the server, the attempts, and what to check, not
    /// the socket layer's "I/O on closed channel".
    @Test func anUnreachableServerIsExplained() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(Self.mib), regions: [(0, 4096)], seed: 34)
        let closedPort = try TamperingProxy(upstreamPort: 1) { _, frame in .pass(frame) }
        closedPort.stop()
        let error = await #expect(throws: AgentNetworkFailure.self) {
            try await fixture.replicate(try fixture.agent(disks: [disk], port: closedPort.port, attempts: 2))
        }
        #expect(error?.attempts == 2)
        #expect(error?.description.contains("127.0.0.1:\(closedPort.port)") == true)
        #expect(error?.description.contains("Connection refused") == true)
    }

    /// The server cannot write its segment (here a full disk: the segment is /dev/full).
    /// Before, the agent only saw its connection close; now it is told why.
    @Test func aServerThatCannotStoreTellsTheAgentWhy() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let segments = fixture.workspace.stagingDirectory.appendingPathComponent("segments")
        try FileManager.default.createSymbolicLink(atPath: segments.appendingPathComponent("00000001.seg").path, withDestinationPath: "/dev/full")
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(Self.mib), regions: [(0, 4096)], seed: 35)
        let error = await #expect(throws: AgentNetworkFailure.self) {
            try await fixture.replicate(try fixture.agent(disks: [disk], attempts: 1))
        }
        #expect(error?.description.contains("No space left on device") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.description.contains("could not store block 0") == true)
    }

    /// A genuine agent reading a crafted descriptor registers a disk of 2^63 bytes. Before,
    /// the server trapped on the block count and dropped every agent.
    @Test func aDiskLargerThanAnyVolumeIsRefusedAndTheServerStaysUp() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let token = try fixture.token
        for size in [UInt64(1) << 63, UInt64.max] {
            let (channel, seal) = try await handDrivenConnection(port: fixture.port, pin: try fixture.pin)
            try await channel.executeThenClose { inbound, outbound in
                var connection = AgentConnection(frames: inbound.makeAsyncIterator(), outbound: outbound, seal: seal)
                try await connection.handshake(token: token)
                let facts = MachineFacts(hostname: "h", disks: [DiskFacts(name: "huge", sizeBytes: size, locator: "huge")])
                try await connection.send(.register(agentIdentity: "huge", factsJSON: Array(try JSONColumn.encode(facts).utf8)))
                let error = await #expect(throws: ReplicationProtocolError.self) { _ = try await connection.readRegistration(diskCount: 1) }
                #expect(error?.description.contains("64 TiB") == true)
            }
        }
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(Self.mib), regions: [(0, 4096)], seed: 36)
        #expect(try await fixture.replicate(try fixture.agent(disks: [disk])).count == 1)
    }

    /// Two servers on one workspace interleaved chunks into the same segments and index
    /// (a snapshot with wrong blocks, "UNIQUE constraint failed" for an agent).
    @Test func aSecondServerOnTheSameWorkspaceIsRefusedUntilTheFirstStops() async throws {
        let fixture = try await ReplicationFixture()
        let second = try ReplicationServer(workspace: fixture.workspace, configuration: .init(host: "127.0.0.1", port: 0))
        let error = await #expect(throws: WorkspaceLockError.self) { try await second.run() }
        guard case .held(_, let holder)? = error else { return }
        #expect(holder.pid == getpid())
        #expect(holder.purpose?.contains("replication server") == true)
        #expect(error?.description.contains("kill \(getpid())") == true)

        await fixture.stopServer()
        try await waitUntil(.seconds(5)) { (try? WorkspaceLock(workspace: fixture.workspace, name: StagingStore.writerLockName, purpose: "test")) != nil }
        try? FileManager.default.removeItem(at: fixture.directory)
    }

    /// A second `ferry workshop` destroyed the previous run while it was still running.
    @Test func aRunThatIsInUseCannotBeDestroyed() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-runlock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let workspace = try Workspace.create(at: root, ferryVersion: "test").workspace
        let run = RecipeRun(id: ResourceID.make(prefix: "run"), recipe: "r", recipeFile: "r.yaml", sourceAdapter: "sandbox", targetAdapter: "sandbox",
                            parameters: [:], language: "en", status: .running, startedAt: Date(), endedAt: nil, steps: [], resources: [])
        try RecipeRunStore(workspace: workspace).createRun(run)
        let runner = RecipeRunner(workspace: workspace, actions: .builtIn, registry: AdapterRegistry(), events: SilentRunEvents())

        var holder: WorkspaceLock? = try WorkspaceLock(workspace: workspace, name: run.id, purpose: "running recipe r")
        let error = await #expect(throws: WorkspaceLockError.self) { _ = try await runner.destroy(run.id) }
        #expect(error?.description.contains("running recipe r") == true)
        #expect(try RecipeRunStore(workspace: workspace).run(run.id).status == .running)
        withExtendedLifetime(holder) {}
        holder = nil
        _ = try await runner.destroy(run.id)
        #expect(try RecipeRunStore(workspace: workspace).run(run.id).status == .destroyed)
    }
}

struct SilentRunEvents: RecipeRunEvents {
    func willRun(step: RecipeStep, index: Int, of count: Int, language: String) async throws {}
    func progress(step: String, _ text: String) {}
    func didFinish(step: RecipeStep, run: RecipeRun, diagram: URL?) {}
    func destroyed(_ record: RecipeResourceRecord) {}
}

/// Peers that are not a replication server, and addresses a server cannot take.
@Suite("Replication peers and addresses", .serialized)
struct ReplicationPeerTests {
    /// A peer that accepts and says nothing held the agent forever, whatever --attempts said.
    @Test func aSilentPeerIsGivenUpOn() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: 1 << 20, regions: [(0, 4096)], seed: 41)
        let silent = try ListeningSocket(greeting: nil)
        defer { silent.close() }
        var configuration = try fixture.agent(disks: [disk], port: silent.port, attempts: 1).configuration
        configuration.handshakeTimeout = .milliseconds(500)
        let error = await #expect(throws: AgentNetworkFailure.self) { try await ReplicationAgent(configuration: configuration).run() }
        #expect(error?.reason.contains("did not answer within 0.5 s") == true, "\(error.map { "\($0)" } ?? "")")
    }

    /// An SSH server on the port: before, "replication frame of 1397966893 bytes exceeds the limit".
    @Test func aPeerThatIsNotAReplicationServerIsNamedSo() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: 1 << 20, regions: [(0, 4096)], seed: 42)
        let ssh = try ListeningSocket(greeting: Array("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n".utf8))
        defer { ssh.close() }
        let error = await #expect(throws: ReplicationProtocolError.self) { try await fixture.replicate(try fixture.agent(disks: [disk], port: ssh.port, attempts: 1)) }
        #expect(error?.description.contains("not a Ferry replication server") == true, "\(error.map { "\($0)" } ?? "")")
    }

    /// Before: "bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)".
    @Test func aPortInUseIsExplained() async throws {
        let fixture = try await ReplicationFixture()
        let taken = try ListeningSocket(greeting: nil)
        defer { taken.close() }
        await fixture.stopServer()
        defer { fixture.stop() }
        let server = try ReplicationServer(workspace: fixture.workspace, configuration: .init(host: "127.0.0.1", port: taken.port))
        let error = await #expect(throws: ReplicationServerError.self) { try await server.run() }
        #expect(error?.description == "the replication server cannot listen on 127.0.0.1:\(taken.port): Address already in use; another process may listen there (a replication server of another workspace?), or the address is not one of this machine's: choose another with --listen HOST:PORT")
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and sends `greeting` (or nothing),
/// then keeps them open without a word: what a wrong service or a hung peer looks like.
final class ListeningSocket: @unchecked Sendable {
    let port: Int
    private let fd: Int32

    init(greeting: [UInt8]?) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 8) == 0 else { throw ReplicationProtocolError.connectionClosed("cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread {
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                if let greeting { _ = greeting.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
            }
        }.start()
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}

/// `ferry agent token --rotate` says agents holding the old token are refused: connected
/// ones too, not only the next to connect.
@Suite("Token rotation", .serialized)
struct TokenRotationTests {
    @Test(.timeLimit(.minutes(1))) func aConnectedAgentIsCutOffWhenTheTokenIsRotated() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: 1 << 20, regions: [(0, 4096)], seed: 51)
        let commits = SummaryBox()
        let agent = try fixture.agent(disks: [disk], continuous: true, interval: .milliseconds(500))
        let running = Task { try await agent.run { if case .committed(let s) = $0 { commits.append(s) } } }
        defer { running.cancel() }
        try await waitUntil(.seconds(10)) { commits.all.count >= 1 }

        _ = try AgentTokenStore(workspace: fixture.workspace).rotate()
        let ended = await running.result
        guard case .failure(let error) = ended else {
            Issue.record("the agent kept replicating with the old token")
            return
        }
        #expect("\(error)".contains("does not hold this project's token"), "\(error)")
    }
}
