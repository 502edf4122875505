import FerryCore
import FerryReplication
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// The replication server: agents connect over TCP (port 1500 by default), prove they hold
/// the project token, register their machine, and send blocks, which are verified, stored
/// in the staging store and committed as consistent snapshots.
public final class ReplicationServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Without a frame for this long an agent's replication is STALLED.
        public var stallAfter: Duration
        /// Without a frame for this long the connection is closed: DISCONNECTED.
        public var disconnectAfter: Duration
        /// An agent must authenticate within this time of connecting.
        public var handshakeTimeout: Duration
        /// The address agents reach the server at, when it is not the one it listens on (a
        /// staging subnet's address relayed to this machine): written into the installer.
        public var advertisedAddress: String?
        /// What the network says about connections to `address` it refused since a time (the
        /// sandbox's flow log): added to a lost agent's STALLED message.
        public var refusalExplainer: (@Sendable (_ address: String, _ since: Date) async -> String?)?
        /// The agent executable the server hands out at `/agent` (nil: the installer answers
        /// that there is none).
        public var agentBinary: URL?

        public init(host: String = "127.0.0.1", port: Int = ReplicationSettings.defaultDataPlanePort,
                    stallAfter: Duration = .seconds(30), disconnectAfter: Duration = .seconds(120),
                    handshakeTimeout: Duration = .seconds(10), agentBinary: URL? = ReplicationServer.agentBinaryBesideThisExecutable()) {
            self.host = host
            self.port = port
            self.stallAfter = stallAfter
            self.disconnectAfter = disconnectAfter
            self.handshakeTimeout = handshakeTimeout
            self.agentBinary = agentBinary
        }
    }

    let workspace: Workspace
    let store: StagingStore
    let tokens: AgentTokenStore
    let configuration: Configuration
    let logger: Logger
    /// The live session of each agent identity. A new authenticated connection for the same
    /// machine (an agent restarted before its old connection was noticed gone) takes over.
    let connected = Mutex<[String: ReplicationSession]>([:])
    let counters = Mutex(ReplicationServerCounters())
    /// Agents whose connection was lost, by identity: their source server and when.
    let lostAgents = Mutex<[String: (sourceServerID: String, since: Date, explained: String?)]>([:])

    public init(workspace: Workspace, configuration: Configuration, logger: Logger = Logger(label: "ferry.replication-server")) throws {
        self.workspace = workspace
        self.store = try StagingStore(workspace: workspace)
        self.tokens = AgentTokenStore(workspace: workspace)
        self.configuration = configuration
        self.logger = logger
    }

    /// What the server has received since it started.
    public var statistics: ReplicationServerCounters { counters.withLock { $0 } }

    /// Serves until the task is cancelled. `onListening` receives the bound port (useful with port 0).
    public func run(onListening: @Sendable (Int) -> Void = { _ in }) async throws {
        // One server per workspace: a second one would interleave chunks into the same
        // segments and index. The lock goes with this process, however it ends.
        let lock = try WorkspaceLock(workspace: workspace, name: StagingStore.writerLockName,
                                     purpose: "replication server on \(configuration.host):\(configuration.port)")
        defer { withExtendedLifetime(lock) {} }
        try markInterruptedReplicationsDisconnected()
        let certificate = ReplicationCertificate(workspace: workspace)
        try certificate.createIfMissing()
        let tls = try NIOSSLContext(configuration: certificate.serverConfiguration())
        let handshakeTimeout = TimeAmount(configuration.handshakeTimeout)
        let listener: NIOAsyncChannel<EventLoopFuture<NegotiatedConnection>, Never>
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: configuration.host, port: configuration.port) { child in
                    child.eventLoop.makeCompletedFuture { try Self.negotiate(on: child, tls: tls, handshakeTimeout: handshakeTimeout) }
                }
        } catch {
            throw ReplicationServerError.cannotListen(address: "\(configuration.host):\(configuration.port)", reason: AgentNetworkFailure.reason(for: error, server: configuration.host) ?? "\(error)")
        }
        let port = listener.channel.localAddress?.port ?? configuration.port
        let advertised = configuration.advertisedAddress ?? "\(configuration.host):\(port)"
        let downloads = AgentDownloads(agentBinary: configuration.agentBinary, pin: try certificate.pin(), advertisedAddress: advertised)
        try RunningReplicationServer(listening: "\(configuration.host):\(port)", advertised: advertised).write(in: workspace)
        logger.info("listening", metadata: ["address": "\(configuration.host):\(port)", "pin": "\(downloads.pin)"])
        onListening(port)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.watchLostAgents(advertised: advertised) }
            try await withTaskCancellationHandler {
                try await listener.executeThenClose { connections in
                    for try await negotiation in connections {
                        group.addTask {
                            switch try? await negotiation.get() {
                            case .replication(let connection, let seal)?: await self.serve(connection, seal: seal)
                            case .downloads(let connection)?: try? await downloads.serve(connection)
                            // The TLS handshake failed or never finished (a scanner, a plain-text
                            // client, a wrong pin on the agent's side): the channel is closed.
                            case nil: break
                            }
                        }
                    }
                }
            } onCancel: {
                listener.channel.close(promise: nil)
            }
        }
    }

    func lost(identity: String, sourceServerID: String) {
        lostAgents.withLock { $0[identity] = (sourceServerID, Date(), nil) }
    }

    /// Every second: an agent that came back is no longer lost; one that stays away longer
    /// than `disconnectAfter` is DISCONNECTED; meanwhile its STALLED message says what the
    /// network refused, when the network can tell.
    private func watchLostAgents(advertised: String) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let lost = lostAgents.withLock { $0 }
            for (identity, entry) in lost {
                let back = connected.withLock { $0[identity] != nil }
                if back {
                    lostAgents.withLock { _ = $0.removeValue(forKey: identity) }
                    continue
                }
                if Date().timeIntervalSince(entry.since) > Double(configuration.disconnectAfter.components.seconds) {
                    lostAgents.withLock { _ = $0.removeValue(forKey: identity) }
                    _ = try? workspace.sourceServers.recordIfAllowed(.disconnect, for: entry.sourceServerID)
                    continue
                }
                guard let explainer = configuration.refusalExplainer, let refusal = await explainer(advertised, entry.since), refusal != entry.explained else { continue }
                lostAgents.withLock { $0[identity]?.explained = refusal }
                let time = entry.since.formatted(.iso8601.time(includingFractionalSeconds: false))
                _ = try? workspace.sourceServers.update(entry.sourceServerID) {
                    $0.replicationMetrics.replicationError = "the connection from the agent was lost at \(time) UTC, and the network refuses it since: \(refusal)"
                }
            }
        }
    }

    /// The agent executable built beside `ferry`, or the one FERRY_AGENT_BINARY names.
    public static func agentBinaryBesideThisExecutable() -> URL? { AgentDownloads.findAgentBinary() }

    /// What a connection turned out to be once TLS and ALPN were through.
    enum NegotiatedConnection: Sendable {
        case replication(NIOAsyncChannel<ReplicationFrame, ReplicationFrame>, ReplicationFrameSeal)
        case downloads(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>)
    }

    /// TLS first, then ALPN: `ferry-replication/N` gets the frames, anything else (curl says
    /// `http/1.1`) the installer's downloads. A peer that has not finished its handshake
    /// within `handshakeTimeout` is closed: nothing is read from it in clear.
    private static func negotiate(on child: any Channel, tls: NIOSSLContext, handshakeTimeout: TimeAmount) throws -> EventLoopFuture<NegotiatedConnection> {
        try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
        let negotiation = NIOTypedApplicationProtocolNegotiationHandler<NegotiatedConnection> { result, channel in
            channel.eventLoop.makeCompletedFuture {
                if case .negotiated(let name) = result, name == ReplicationTLS.applicationProtocol || ReplicationTLS.earlierApplicationProtocols.contains(name) {
                    let seal = ReplicationFrameSeal()
                    return .replication(try ReplicationChannel.configure(channel, role: .server, seal: seal), seal)
                }
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                return .downloads(try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel))
            }
        }
        try child.pipeline.syncOperations.addHandler(negotiation)
        let deadline = child.eventLoop.scheduleTask(in: handshakeTimeout) { child.close(promise: nil) }
        negotiation.protocolNegotiationResult.whenComplete { _ in deadline.cancel() }
        return negotiation.protocolNegotiationResult
    }

    private func serve(_ connection: NIOAsyncChannel<ReplicationFrame, ReplicationFrame>, seal: ReplicationFrameSeal) async {
        let peer = connection.channel.remoteAddress?.description ?? "unknown peer"
        let session = ReplicationSession(server: self, channel: connection.channel, peer: peer, seal: seal)
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await session.watch() }
                    group.addTask { try await session.run(inbound: inbound, outbound: outbound) }
                    // Whichever ends first (the session or its watchdog closing the channel) ends both.
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            // A frame whose seal fails, or a TLS record that does not decrypt: changed on the way.
            if case ReplicationProtocolError.integrity = error { counters.withLock { $0.framesRejected += 1 } }
            if error is NIOSSLError || error is BoringSSLError { counters.withLock { $0.framesRejected += 1 } }
            logger.notice("connection ended", metadata: ["peer": "\(peer)", "reason": "\(error)"])
        }
        session.finish()
    }

    /// After a crash or a stop, no agent is connected: what was replicating is DISCONNECTED.
    private func markInterruptedReplicationsDisconnected() throws {
        for server in try workspace.sourceServers.list() {
            try workspace.sourceServers.recordIfAllowed(.disconnect, for: server.id)
        }
    }
}

/// Counters of the replication server since it started, in bytes and blocks.
public struct ReplicationServerCounters: Codable, Hashable, Sendable {
    /// Bytes of block data received on the wire (compressed when the agent compresses).
    public var blockBytesReceived: UInt64 = 0
    public var blocksReceived = 0
    /// Blocks written into the staging store (not already there).
    public var chunksWritten = 0
    public var blocksRejected = 0
    public var trims = 0
    public var snapshotsCommitted = 0
    public var connectionsRefused = 0
    /// Connections closed because a frame's seal did not match (changed or injected on the way).
    public var framesRejected = 0
}
