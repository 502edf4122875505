import ArgumentParser
import Dispatch
import FerryCore
import FerryReplication
import FerryKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ReplicationServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replication-server",
        abstract: "Receive agents' blocks on TCP 1500, verify and stage them, commit consistent snapshots."
    )

    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host:port"))
    var listen = "127.0.0.1:\(ReplicationSettings.defaultDataPlanePort)"

    @Option(help: ArgumentHelp("The address source machines reach this server at, when not --listen's (written into the installer and `ferry agent token`).", valueName: "host:port"))
    var advertise: String?

    @Option(help: ArgumentHelp("Place the server in this sandbox subnet, at the subnet's service address on TCP 1500 (as the workshop does): machines reach it there through the --security-group rules.", valueName: "subnet-…"))
    var subnet: String?

    @Option(name: .customLong("security-group"), help: ArgumentHelp("With --subnet: a security group of the replication server (repeat for more); its inbound rules decide which machines reach it.", valueName: "sg-…"))
    var securityGroups: [String] = []

    @Option(name: .customLong("stall-after"), help: "Seconds without a frame before an agent's replication is STALLED.")
    var stallAfter: Double = 30

    @Option(name: .customLong("disconnect-after"), help: "Seconds without a frame before the agent is disconnected.")
    var disconnectAfter: Double = 120

    @Option(name: .customLong("port-file"), help: ArgumentHelp("Once listening, write the address (host:port) to this file: useful with port 0.", valueName: "path"))
    var portFile: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let endpoint = try ReplicationEndpoint(parsing: listen, option: "--listen")
        let workspace = try global.openWorkspace()
        try AgentTokenStore(workspace: workspace).createIfMissing()
        var configuration = ReplicationServer.Configuration(
            host: endpoint.host, port: endpoint.port,
            stallAfter: .milliseconds(Int(stallAfter * 1000)), disconnectAfter: .milliseconds(Int(disconnectAfter * 1000))
        )
        var placed: ServiceEndpoint?
        let sandbox = BuiltInAdapters.sandbox(workspaceRoot: workspace.root)
        if let subnet {
            guard !securityGroups.isEmpty else {
                throw ValidationError("--subnet needs at least one --security-group: its inbound rules decide which machines reach the server (MGN's allows TCP 1500)")
            }
            guard advertise == nil else { throw ValidationError("--subnet and --advertise: the subnet's address is the one advertised") }
            guard endpoint.port != 0, ["127.0.0.1", "0.0.0.0"].contains(endpoint.host) else {
                throw ValidationError("--subnet relays to this machine's loopback: --listen must be 127.0.0.1 or 0.0.0.0 with a fixed port, not \(listen)")
            }
            let endpointPlaced = try await sandbox.placeServiceEndpoint(ServiceEndpointRequest(
                name: "Replication Server", subnetID: subnet, securityGroupIDs: securityGroups, port: ReplicationSettings.defaultDataPlanePort, hostPort: endpoint.port))
            placed = endpointPlaced
            print("Placed in \(subnet) as \(endpointPlaced.id): source machines reach this server at \(endpointPlaced.address), as its security groups allow")
        }
        if let advertise = advertise ?? placed?.address {
            let advertised = try ReplicationEndpoint(parsing: advertise, option: "--advertise")
            configuration.advertisedAddress = advertised.description
            // Placed in the sandbox's staging subnet: the sandbox's flow log says what it refused.
            configuration.refusalExplainer = { _, since in
                try? await sandbox.lastRefusal(to: advertised.host, port: advertised.port, since: since)
            }
        }
        if configuration.agentBinary == nil {
            FileHandle.standardError.write(Data("Note: no ferry-agent executable beside ferry (build it with `make agent`): the installer at /installer will answer that there is none.\n".utf8))
        }
        let server = try ReplicationServer(workspace: workspace, configuration: configuration)
        let task = Task {
            try await server.run { port in
                let bound = ReplicationEndpoint(host: endpoint.host, port: port)
                if let portFile {
                    do {
                        try ReplicationPortFile.write(bound, to: URL(fileURLWithPath: portFile))
                    } catch {
                        FileHandle.standardError.write(Data("Error: cannot write the port file: \(error)\n".utf8))
                    }
                }
                print("Replication server listening on \(bound) (workspace \(workspace.root.path))")
                Output.flush()
            }
        }
        // SIGINT and SIGTERM stop the server cleanly: agents see the connection close.
        let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        do {
            try await task.value
        } catch is CancellationError {
            print("Replication server stopped")
        } catch {
            if let placed { try? await sandbox.removeServiceEndpoint(id: placed.id) }
            throw error
        }
        if let placed { try? await sandbox.removeServiceEndpoint(id: placed.id) }
        let stats = server.statistics
        print("Received \(stats.blocksReceived) blocks (\(Output.bytes(stats.blockBytesReceived))), wrote \(stats.chunksWritten) chunks, committed \(stats.snapshotsCommitted) snapshots")
    }
}
