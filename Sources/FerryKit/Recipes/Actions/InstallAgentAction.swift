import FerryCore
import FerryReplication
import Foundation

/// Installs the agent "on" a source instance: `ferry agent --continuous` as a background
/// process that reads the instance's disks while it runs and replicates them to the server
/// with the project's token.
struct InstallAgentAction: RecipeAction {
    init() {}

    let name = "agent.install"
    let summary = "Install the replication agent on a source machine and start continuous replication"
    let inputs = [
        RecipeActionInput("instance_id", .string, help: "the source instance"),
        RecipeActionInput("server", .string, help: "the replication server's host:port"),
        RecipeActionInput("hostname", .string, help: "the source machine's name"),
        RecipeActionInput("subnet_id", .string, help: "the source instance's subnet (for diagrams)"),
        RecipeActionInput("interval_seconds", .integer, default: .integer(5), help: "seconds between passes (sooner when the disk changes)"),
    ]
    let outputs = ["agent_identity", "pid", "disks"]
    let requiredCapabilities: [Capability] = [.instanceDisks]

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["install the agent on \(inputs.optionalString("instance_id") ?? "?"), replicating to \(inputs.optionalString("server") ?? "?")"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let instance = try inputs.string("instance_id")
        let disks = try await context.environment.instanceDisks().instanceDisks(instanceID: instance)
        for disk in disks { context.progress(context.say(en: "Disk to replicate identified: \(disk.name) of size \(disk.sizeBytes >> 20) MiB",
                                                                ja: "レプリケーションするディスクを特定しました: \(disk.name)、サイズ \(disk.sizeBytes >> 20) MiB")) }
        let token = try AgentTokenStore(workspace: context.workspace)
        try token.createIfMissing()
        let identity = AgentIdentity.make(hostname: try inputs.string("hostname"), diskLocators: disks.map(\.locator))
        let server = try ReplicationEndpoint(parsing: try inputs.string("server"), option: "the server input")
        let log = context.runDirectory.appendingPathComponent("agent-\(instance).log")
        try FileManager.default.createDirectory(at: context.runDirectory, withIntermediateDirectories: true)
        let pid = try BackgroundProcess.spawn(BackgroundProcess.ferryExecutable, ReplicationCommandLine.continuousAgent(
            server: server, identity: identity, hostname: try inputs.string("hostname"),
            intervalSeconds: try inputs.integer("interval_seconds"), diskPaths: disks.map(\.locator)
        ), environment: ["FERRY_AGENT_TOKEN": try token.read().reveal()], log: log)
        try context.created(CloudResource(kind: .process, id: String(pid)), detail: RecipeResourceDetail.json([
            "name": "agent on \(try inputs.string("hostname"))", RecipeResourceRole.detailKey: RecipeResourceRole.agent.rawValue, "subnet": try inputs.string("subnet_id"), "instance": instance, "log": log.path,
        ]))
        context.progress(context.say(en: "agent \(pid) installed on \(instance), replicating to \(server)",
                                     ja: "エージェント \(pid) を \(instance) にインストールしました。レプリケーション先は \(server) です"))
        return ["agent_identity": .string(identity), "pid": .integer(Int(pid)), "disks": .integer(disks.count)]
    }
}
