import FerryCore
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The agent: reads a machine's disks in 512 KiB blocks, hashes them, skips all-zero blocks
/// and blocks the server already holds, and streams the rest to the replication server; each
/// pass ends in a committed consistent snapshot. Memory stays bounded whatever the disk
/// size: one block buffer plus the blocks in flight (the window).
public final class ReplicationAgent: Sendable {
    public struct Disk: Sendable {
        public var facts: DiskFacts
        public var reader: any BlockReader
        /// A cheap marker that changes when the disk may have changed, when the source can tell.
        public var changeStamp: (@Sendable () -> String?)?

        public init(facts: DiskFacts, reader: any BlockReader, changeStamp: (@Sendable () -> String?)? = nil) {
            self.facts = facts
            self.reader = reader
            self.changeStamp = changeStamp
        }
    }

    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var token: Secret
        /// The project's certificate key: the only server this agent sends a block to.
        public var pin: CertificatePin
        /// What makes this machine the same source server across restarts.
        public var identity: String
        public var facts: MachineFacts
        public var disks: [Disk]
        public var continuous: Bool
        public var interval: Duration
        public var throttleBytesPerSecond: Int?
        public var compress: Bool
        /// Blocks sent and not yet acknowledged, at most.
        public var window: Int
        /// Connections a one-shot run tries before it gives up (a continuous one never does).
        public var attempts: Int
        /// How long the server may take to speak first (its challenge), and to answer anything
        /// afterwards; past that the connection counts as lost.
        public var handshakeTimeout: Duration = .seconds(15)
        public var answerTimeout: Duration = .seconds(60)
        /// The machine's writes as the system reports them: with it, continuous replication
        /// sends what was written and closes frozen points in time; without it, every pass
        /// rescans the disks.
        public var tracking: WriteTracking?

        public init(host: String, port: Int, token: Secret, pin: CertificatePin, identity: String, facts: MachineFacts, disks: [Disk],
                    continuous: Bool = false, interval: Duration = .seconds(10), throttleBytesPerSecond: Int? = nil,
                    compress: Bool = false, window: Int = 16, attempts: Int = 5) {
            self.host = host
            self.port = port
            self.token = token
            self.pin = pin
            self.identity = identity
            self.facts = facts
            self.disks = disks
            self.continuous = continuous
            self.interval = interval
            self.throttleBytesPerSecond = throttleBytesPerSecond
            self.compress = compress
            self.window = max(1, window)
            self.attempts = max(1, attempts)
        }
    }

    public enum Event: Sendable {
        case connected(sourceServerID: String, blocksHeld: Int)
        case progress(AgentProgress)
        case committed(AgentPassSummary)
        case reconnecting(after: Duration, reason: String)
        /// A tracked agent reads every block again, and why (its first connection, a lost trace).
        case rescanning(reason: String)
        /// A tracked agent back on a new connection with its trace intact: it sends what was
        /// written since its last point (`blocks` of them) instead of reading every block.
        case resumed(blocks: Int)
    }

    package let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Replicates once (or, when continuous, until cancelled). A lost connection is tried
    /// again after a pause: forever when continuous, `Configuration.attempts` times in all
    /// otherwise. The server keeps every block it acknowledged, so a new connection resumes
    /// where the last one stopped. Anything else (a refusal, a wrong token, a failing source)
    /// ends the run with its own error, not as a network problem.
    public func run(onEvent: @escaping @Sendable (Event) -> Void = { _ in }) async throws {
        if let disk = configuration.disks.first(where: { $0.facts.sizeBytes > ReplicationProtocol.maximumDiskSize || $0.reader.size > ReplicationProtocol.maximumDiskSize }) {
            throw BlockReaderError.corrupt(disk: disk.facts.name, reason: "its size of \(max(disk.facts.sizeBytes, disk.reader.size)) bytes is more than the \(ReplicationProtocol.maximumDiskSize >> 40) TiB a replicated disk may have")
        }
        var backoff: Duration = .seconds(1)
        var attempt = 0
        while true {
            attempt += 1
            let connected = ConnectedFlag()
            do {
                try await session(onEvent: { event in
                    if case .connected = event { connected.set() }
                    onEvent(event)
                })
                return
            } catch {
                guard !Task.isCancelled, let reason = AgentNetworkFailure.reason(for: error, server: "\(configuration.host):\(configuration.port)") else {
                    throw error
                }
                if connected.isSet {
                    // It worked for a while: the next failure starts the count again.
                    attempt = 1
                    backoff = .seconds(1)
                }
                if !configuration.continuous && attempt >= configuration.attempts {
                    let serverFailed = if case ReplicationProtocolError.serverFailed = error { true } else { false }
                    throw AgentNetworkFailure(server: "\(configuration.host):\(configuration.port)", attempts: attempt, reason: reason, serverFailed: serverFailed)
                }
                try await pause(backoff, reason: reason, onEvent: onEvent)
            }
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    private func pause(_ delay: Duration, reason: String, onEvent: @Sendable (Event) -> Void) async throws {
        onEvent(.reconnecting(after: delay, reason: reason))
        try await Task.sleep(for: delay)
    }

    /// Connects once, proves the token, registers the machine with its facts, and leaves
    /// without sending a block: what an installer does to check the server, the pin and the
    /// token before it installs anything.
    /// - Returns: the source server's id.
    public func register() async throws -> String {
        let registered = RegisteredID()
        try await session(registerOnly: true) { event in
            if case .connected(let id, _) = event { registered.set(id) }
        }
        guard let id = registered.value else { throw ReplicationProtocolError.connectionClosed("before the server registered the machine") }
        return id
    }

    private func session(registerOnly: Bool = false, onEvent: @escaping @Sendable (Event) -> Void) async throws {
        let seal = ReplicationFrameSeal()
        let rejection = ReplicationTLS.PinRejection()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: configuration.host, port: configuration.port) { [pin = configuration.pin] channel in
                channel.eventLoop.makeCompletedFuture {
                    try ReplicationTLS.addClientHandler(to: channel, pin: pin, rejected: rejection)
                    return try ReplicationChannel.configure(channel, role: .agent, seal: seal)
                }
            }
        do {
            try await converse(on: channel, seal: seal, registerOnly: registerOnly, onEvent: onEvent)
        } catch {
            // A refused certificate ends the run: no new connection will change the key.
            if let reason = rejection.last {
                throw ReplicationProtocolError.authenticationFailed("\(configuration.host):\(configuration.port) is not this project's replication server: \(reason)")
            }
            switch error as? NIOSSLError {
            case .handshakeFailed(let cause)?:
                throw ReplicationProtocolError.notAReplicationServer("the TLS handshake failed (\(cause))")
            case let other?:
                throw ReplicationProtocolError.connectionClosed("during the TLS handshake with \(configuration.host):\(configuration.port) (\(other))")
            case nil:
                break
            }
            throw error
        }
    }

    private func converse(on channel: NIOAsyncChannel<ReplicationFrame, ReplicationFrame>, seal: ReplicationFrameSeal, registerOnly: Bool,
                          onEvent: @escaping @Sendable (Event) -> Void) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var connection = AgentConnection(frames: inbound.makeAsyncIterator(), outbound: outbound, seal: seal, channel: channel.channel,
                                             answerTimeout: TimeAmount(configuration.answerTimeout), handshakeTimeout: TimeAmount(configuration.handshakeTimeout))
            try await connection.handshake(token: configuration.token)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            try await connection.send(.register(agentIdentity: configuration.identity, factsJSON: Array(try encoder.encode(configuration.facts))))
            let (serverID, held) = try await connection.readRegistration(diskCount: configuration.disks.count)
            onEvent(.connected(sourceServerID: serverID, blocksHeld: held.reduce(0) { $0 + $1.count }))
            if registerOnly {
                try await connection.send(.goodbye)
                return
            }
            var pass = AgentPass(configuration: configuration, held: held)
            if let tracking = configuration.tracking {
                try await TrackedReplication(tracking: tracking, configuration: configuration).run(pass: &pass, connection: &connection, onEvent: onEvent)
                if !configuration.continuous { try await connection.send(.goodbye) }
                return
            }
            repeat {
                let stamps = configuration.disks.map { $0.changeStamp?() }
                let summary = try await pass.run(connection: &connection, onEvent: onEvent)
                onEvent(.committed(summary))
                if configuration.continuous {
                    // After a pass that found changes, one more after the interval whatever
                    // the stamps say, so that a pass that began after the change always comes.
                    let changed = summary.blocksSent > 0 || summary.blocksTrimmed > 0
                    try await waitForNextPass(since: stamps, evenIfUnchanged: changed, connection: &connection)
                }
            } while configuration.continuous && !Task.isCancelled
            // A one-shot run is done (a continuous one ends only when cancelled, as a lost agent).
            if !configuration.continuous { try await connection.send(.goodbye) }
        }
    }

    /// Waits for the interval, or less when a disk says it changed; keeps the connection
    /// alive. When every disk has a change stamp, an unchanged machine is not read again at
    /// all: the wait lasts until a stamp moves.
    private func waitForNextPass(since stamps: [String?], evenIfUnchanged: Bool, connection: inout AgentConnection) async throws {
        let everyDiskStamped = !evenIfUnchanged && configuration.disks.allSatisfy { $0.changeStamp != nil }
        let deadline = ContinuousClock.now + configuration.interval
        var nextHeartbeat = ContinuousClock.now + .seconds(2)
        let tick = min(configuration.interval, .milliseconds(200))
        while everyDiskStamped || ContinuousClock.now < deadline {
            try await Task.sleep(for: tick)
            let changed = zip(configuration.disks, stamps).contains { disk, stamp in
                guard let probe = disk.changeStamp else { return false }
                return probe() != stamp
            }
            if changed { return }
            if ContinuousClock.now >= nextHeartbeat {
                try await connection.send(.heartbeat)
                nextHeartbeat = ContinuousClock.now + .seconds(2)
            }
        }
    }
}

public struct AgentProgress: Sendable {
    public var pass: UInt64
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
    public var bytesSent: UInt64
    public var bytesPerSecond: Double
    public var etaSeconds: Double?
}

public struct AgentPassSummary: Sendable {
    public var pass: UInt64
    public var snapshotID: String
    public var bytesScanned: UInt64
    /// Block bytes put on the wire (after compression).
    public var bytesSent: UInt64
    public var blocksSent: Int
    public var blocksTrimmed: Int
    public var seconds: Double
    /// How long the machine's file systems were frozen to close this point in time.
    public var frozenSeconds: Double = 0
}

/// The agent's end of one connection: frames in order, refusals turned into errors.
package struct AgentConnection {
    package var frames: NIOAsyncChannelInboundStream<ReplicationFrame>.AsyncIterator
    package let outbound: NIOAsyncChannelOutboundWriter<ReplicationFrame>
    package let seal: ReplicationFrameSeal
    /// The channel, closed when an answer is overdue; nil for tests that drive frames by hand.
    package var channel: (any Channel)?
    /// How long the agent waits for any answer it expects: a peer that accepts the
    /// connection and then says nothing (a wrong service, a half-open firewall, a hung
    /// server) must not hold the agent forever.
    package var answerTimeout: TimeAmount = .seconds(60)
    package var handshakeTimeout: TimeAmount = .seconds(15)

    /// The next frame from the server, within `answerTimeout`.
    package mutating func next() async throws -> ReplicationFrame {
        let overdue = ConnectedFlag()
        let deadline = channel.map { channel in
            channel.eventLoop.scheduleTask(in: answerTimeout) {
                overdue.set()
                channel.close(promise: nil)
            }
        }
        defer { deadline?.cancel() }
        let received: ReplicationFrame?
        do {
            received = try await frames.next()
        } catch where overdue.isSet {
            received = nil
        }
        guard let frame = received else {
            if overdue.isSet {
                throw ReplicationProtocolError.connectionClosed("by this agent: the replication server did not answer within \(Double(answerTimeout.nanoseconds) / 1e9) s")
            }
            throw ReplicationProtocolError.connectionClosed("by the replication server")
        }
        if case .refused(let reason) = frame { throw ReplicationProtocolError.refused(reason) }
        if case .failed(let reason) = frame { throw ReplicationProtocolError.serverFailed(reason) }
        return frame
    }

    package func send(_ frame: ReplicationFrame) async throws {
        try await outbound.write(frame)
    }

    package mutating func handshake(token: Secret) async throws {
        // A server speaks first, at once: a peer that says nothing for 15 s, or says
        // something that is not a challenge, is not a Ferry replication server.
        let patience = answerTimeout
        answerTimeout = handshakeTimeout
        defer { answerTimeout = patience }
        let first: ReplicationFrame
        do {
            first = try await next()
        } catch let error as ReplicationProtocolError {
            switch error {
            case .malformed, .frameTooLarge, .unknownFrameType:
                throw ReplicationProtocolError.notAReplicationServer("its first bytes are not a replication frame (\(error))")
            default:
                throw error
            }
        }
        guard case .challenge(let version, let serverNonce) = first else {
            throw ReplicationProtocolError.notAReplicationServer("it began with a \(first.name) frame, not a challenge")
        }
        guard version == ReplicationProtocol.version else {
            throw ReplicationProtocolError.versionMismatch(ours: ReplicationProtocol.version, theirs: version)
        }
        let agentNonce = ReplicationAuthentication.makeNonce()
        let proof = ReplicationAuthentication.agentProof(token: token, serverNonce: serverNonce, agentNonce: agentNonce)
        try await send(.authenticate(version: ReplicationProtocol.version, agentNonce: agentNonce, proof: proof))
        let reply = try await next()
        guard case .welcome(let serverProof) = reply else {
            throw ReplicationProtocolError.unexpectedFrame(expected: "welcome", got: reply.name)
        }
        // The server proves it holds the token too: an impostor cannot collect the disks.
        let expected = ReplicationAuthentication.serverProof(token: token, serverNonce: serverNonce, agentNonce: agentNonce)
        guard ReplicationAuthentication.verify(serverProof, equals: expected) else {
            throw ReplicationProtocolError.authenticationFailed("the server could not prove it holds the project token")
        }
        seal.activate(token: token, serverNonce: serverNonce, agentNonce: agentNonce, role: .agent)
    }

    package mutating func readRegistration(diskCount: Int) async throws -> (String, [[UInt64: ChunkHash]]) {
        let first = try await next()
        guard case .registered(let serverID) = first else {
            throw ReplicationProtocolError.unexpectedFrame(expected: "registered", got: first.name)
        }
        var held = [[UInt64: ChunkHash]](repeating: [:], count: diskCount)
        while true {
            switch try await next() {
            case .inventory(let disk, let entries):
                guard Int(disk) < diskCount else { throw ReplicationProtocolError.malformed("inventory for unknown disk \(disk)") }
                for entry in entries {
                    guard let hash = ChunkHash(bytes: entry.sha256) else { throw ReplicationProtocolError.malformed("inventory hash") }
                    held[Int(disk)][entry.index] = hash
                }
            case .inventoryEnd:
                return (serverID, held)
            case let other:
                throw ReplicationProtocolError.unexpectedFrame(expected: "inventory", got: other.name)
            }
        }
    }
}

private final class RegisteredID: Sendable {
    private let id = Mutex<String?>(nil)
    func set(_ value: String) { id.withLock { $0 = value } }
    var value: String? { id.withLock { $0 } }
}
