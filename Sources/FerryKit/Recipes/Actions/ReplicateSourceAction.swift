import FerryCore
import FerryReplication
import Foundation
import Synchronization

/// Replicates a machine that a source adapter reads from its files (a VMware VM from its
/// .vmx or .ova, a raw image): the agent runs inside Ferry, reading the disks through the
/// adapter, and sends one full pass to the replication server, which commits a snapshot.
struct ReplicateSourceAction: RecipeAction {
    init() {}

    let name = "replication.replicate-source"
    let summary = "Replicate a machine read by a source adapter (VMware .vmx/.ova, raw images) to the replication server"
    let inputs = [
        RecipeActionInput("adapter", .string, help: "the source adapter (vmware, physical, …)"),
        RecipeActionInput("options", .map, default: .map([:]), help: "the adapter's options, e.g. {path: web.vmx}"),
        RecipeActionInput("server", .string, help: "the replication server's host:port"),
    ]
    let outputs = ["source_server_id", "snapshot_id", "bytes_sent", "blocks_sent", "hostname"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["read the machine with the \(inputs.optionalString("adapter") ?? "?") adapter (\(inputs["options"]?.description ?? "")) and replicate its disks to \(inputs.optionalString("server") ?? "?")"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let adapter = try context.environment.registry.source(named: try inputs.string("adapter"))
        var options = inputs.tags("options")
        // Relative paths are relative to the recipe's folder.
        if let path = options["path"], !path.hasPrefix("/") {
            options["path"] = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: try context.recipeFile).deletingLastPathComponent()).path
        }
        let configuration = try AdapterConfiguration(options, for: adapter.descriptor)
        let machine = try await AgentMachine.discover(through: adapter, configuration: configuration, hostname: nil)
        for disk in machine.facts.disks { context.progress("Disk to replicate identified: \(disk.name) of size \(disk.sizeBytes >> 20) MiB") }
        let endpoint = try ReplicationEndpoint(parsing: try inputs.string("server"), option: "the server input")
        let tokens = AgentTokenStore(workspace: context.workspace)
        try tokens.createIfMissing()
        let identity = machine.identity
        let agent = ReplicationAgent(configuration: .init(
            host: endpoint.host, port: endpoint.port, token: try tokens.read(), pin: try ReplicationCertificate(workspace: context.workspace).pin(), identity: identity, facts: machine.facts, disks: machine.disks
        ))
        let summaries = SummaryCollector()
        try await agent.run { event in
            switch event {
            case .committed(let summary): summaries.add(summary)
            case .connected(let id, _): context.progress("registered as source server \(id)")
            default: break
            }
        }
        guard let summary = summaries.last, let server = try context.workspace.sourceServers.find(agentIdentity: identity) else {
            throw RecipeInputError.invalid(name: "server", reason: "the replication pass did not commit")
        }
        context.progress("snapshot \(summary.snapshotID): \(summary.blocksSent) blocks (\(summary.bytesSent >> 20) MiB) sent in \(String(format: "%.1f", summary.seconds)) s")
        return ["source_server_id": .string(server.id), "snapshot_id": .string(summary.snapshotID), "bytes_sent": .integer(Int(summary.bytesSent)),
                "blocks_sent": .integer(summary.blocksSent), "hostname": .string(machine.facts.hostname)]
    }
}

/// Collects pass summaries from the agent's event callback.
private final class SummaryCollector: Sendable {
    private let summaries = Mutex<[AgentPassSummary]>([])
    func add(_ summary: AgentPassSummary) { summaries.withLock { $0.append(summary) } }
    var last: AgentPassSummary? { summaries.withLock { $0.last } }
}
