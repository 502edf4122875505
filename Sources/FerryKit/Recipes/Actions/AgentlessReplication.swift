import FerryCore
import FerryReplication
import Foundation

/// Replication of an instance that cannot run the agent: `ferry agent run --continuous` on this
/// machine reads the instance's disks where the target keeps them (`InstanceDiskCapability`),
/// as MGN's agentless replication reads a vCenter VM's disks. Its facts are the ones the disk
/// and the recipe give, not the machine's own: only an agent inside the machine knows those.
enum AgentlessReplication {
    static func start(_ inputs: RecipeInputs, instance: String, context: RecipeContext) async throws -> [String: RecipeValue] {
        let instanceDisks = try context.environment.instanceDisks()
        let disks = try await instanceDisks.instanceDisks(instanceID: instance)
        let monitor = try await instanceDisks.hypervisorMonitor(instanceID: instance)
        for disk in disks { context.progress(context.say(en: "Disk to replicate identified: \(disk.name) of size \(disk.sizeBytes >> 20) MiB",
                                                                ja: "レプリケーションするディスクを特定しました: \(disk.name)、サイズ \(disk.sizeBytes >> 20) MiB")) }
        let tokens = AgentTokenStore(workspace: context.workspace)
        try tokens.createIfMissing()
        let certificate = ReplicationCertificate(workspace: context.workspace)
        try certificate.createIfMissing()
        let givenName = inputs.optionalString("hostname") ?? ""
        let hostname = givenName.isEmpty ? instance : givenName
        let identity = AgentIdentity.make(hostname: hostname, diskLocators: disks.map(\.locator))
        // The agent runs here: it reaches the server where this machine does, not where the
        // instance would (a staging subnet's address).
        let running = RunningReplicationServer.current(in: context.workspace).flatMap { try? ReplicationEndpoint(parsing: $0.listening, option: "server") }
        let server = try running ?? ReplicationEndpoint(parsing: try inputs.string("server"), option: "the server input")
        let log = context.runDirectory.appendingPathComponent("agent-\(instance).log")
        try FileManager.default.createDirectory(at: context.runDirectory, withIntermediateDirectories: true)
        let pid = try BackgroundProcess.spawn(BackgroundProcess.ferryExecutable, ReplicationCommandLine.continuousAgent(
            server: server, identity: identity, hostname: hostname, intervalSeconds: try inputs.integer("interval_seconds"),
            diskPaths: disks.map(\.locator), pin: try certificate.pin(), hypervisorMonitor: monitor
        ), environment: ["FERRY_AGENT_TOKEN": try tokens.read().reveal()], log: log)
        try context.created(CloudResource(kind: .process, id: String(pid)), detail: RecipeResourceDetail.json([
            "name": "agentless: \(hostname)'s disk read here", RecipeResourceRole.detailKey: RecipeResourceRole.agent.rawValue,
            "subnet": try inputs.string("subnet_id"), "instance": instance, "log": log.path,
        ]))
        context.progress(context.say(en: "agentless: agent \(pid) on this machine reads \(instance)'s disk, replicating to \(server)",
                                     ja: "エージェントレス: このマシン上のエージェント \(pid) が \(instance) のディスクを読み取り、\(server) へレプリケーションします"))
        if monitor != nil {
            context.progress(context.say(en: "agentless: the hypervisor tracks \(instance)'s writes (dirty bitmaps) and each point in time is an image fleecing: the guest is never paused",
                                         ja: "エージェントレス: ハイパーバイザーが \(instance) の書き込みを追跡し (ダーティビットマップ)、各ポイントインタイムはイメージフリーシングで取得されます (ゲストは停止しません)"))
        }
        // The source server is the one the agent registers; it does so within seconds.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let registered = try context.workspace.sourceServers.find(agentIdentity: identity) {
                return ["source_server_id": .string(registered.id), "disks": .integer(disks.count), "agent_instance_id": .string(instance),
                        "mode": .string("agentless"), "pid": .integer(Int(pid))]
            }
            guard BackgroundProcess.isRunning(pid) else { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(5).joined(separator: "\n")
        throw RecipeInputError.invalid(name: "server", reason: "the agent did not register \(hostname) with the replication server; its log says:\n\(tail)")
    }
}
