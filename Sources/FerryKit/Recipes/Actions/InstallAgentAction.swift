import FerryCore
import FerryReplication
import Foundation
import Synchronization

/// Installs the agent inside a source instance, as a consultant does in the workshop: logged
/// in as root (the target's Run Command), it downloads the installer from the replication
/// server over the instance's own network and runs it with the project's token. The installer
/// identifies the instance's disks, registers the machine and starts the agent's service;
/// from then on the instance replicates itself, with its own facts.
///
/// An instance that cannot run the agent (the busybox guest: no C library, no SSH server) is
/// replicated agentless instead, as MGN's agentless replication reads a vCenter VM's disks
/// from outside: an agent on this machine reads the instance's disk where the sandbox keeps
/// it. The step says which it did, and why.
struct InstallAgentAction: RecipeAction {
    init() {}

    let name = "agent.install"
    let summary = "Install the replication agent inside a source instance (its installer, from the replication server) and start replicating"
    let inputs = [
        RecipeActionInput("instance_id", .string, help: "the source instance"),
        RecipeActionInput("server", .string, help: "the replication server's address as the instance reaches it (host:port)"),
        RecipeActionInput("subnet_id", .string, help: "the source instance's subnet (for diagrams)"),
        RecipeActionInput("hostname", .string, default: .string(""), help: "the machine's name (its facts come from the machine itself; agentless, it names the machine)"),
        RecipeActionInput("mode", .string, default: .string("auto"), help: "in-guest (the installer in the instance), agentless (an agent here reads the instance's disk) or auto (in-guest where the instance can run it)"),
        RecipeActionInput("interval_seconds", .integer, default: .integer(5), help: "agentless: seconds between passes (sooner when the disk changes)"),
    ]
    let outputs = ["source_server_id", "disks", "agent_instance_id", "mode", "pid"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["log into \(inputs.optionalString("instance_id") ?? "?") as root and run the installer from \(inputs.optionalString("server") ?? "?") with the project's token"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let instance = try inputs.string("instance_id")
        let mode = inputs.optionalString("mode") ?? "auto"
        guard ["auto", "in-guest", "agentless"].contains(mode) else {
            throw RecipeInputError.invalid(name: "mode", reason: "'\(mode)' is none of auto, in-guest, agentless")
        }
        let commands = try? context.environment.runCommand()
        let refusal: String? = if let commands { try await commands.whyCannotRunCommands(instanceID: instance) } else { "the \(context.environment.adapterName) adapter cannot run commands in its instances" }
        if mode == "in-guest", let refusal {
            throw RecipeInputError.invalid(name: "mode", reason: "the agent cannot be installed in \(instance): \(refusal)")
        }
        if mode == "agentless" || refusal != nil {
            if let refusal {
                // The adapter's reason is in English (adapters know no run language).
                context.progress(context.say(en: "\(instance) cannot run the agent (\(refusal)): it is replicated agentless, by an agent on this machine reading its disk",
                                             ja: "\(instance) ではエージェントを実行できません。このマシン上のエージェントがディスクを読み取り、エージェントレスでレプリケーションします"))
            }
            return try await AgentlessReplication.start(inputs, instance: instance, context: context)
        }
        let server = try ReplicationEndpoint(parsing: try inputs.string("server"), option: "the server input")
        let tokens = AgentTokenStore(workspace: context.workspace)
        try tokens.createIfMissing()
        let certificate = ReplicationCertificate(workspace: context.workspace)
        try certificate.createIfMissing()
        let command = AgentInstallCommand.readingToken(server: server.description, pin: try certificate.pin())
        context.progress(context.say(en: "on \(instance), as root: \(AgentInstallCommand.text(server: server.description, pin: try certificate.pin(), token: "<token>", sudo: false))",
                                     ja: "\(instance) で root として実行: \(AgentInstallCommand.text(server: server.description, pin: try certificate.pin(), token: "<トークン>", sudo: false))"))
        let lines = LineCollector()
        let result = try await context.environment.runCommand().runCommand(instanceID: instance, command: command, input: try tokens.read().reveal(), timeoutSeconds: 900) { line in
            lines.add(line)
            context.progress("  \(line)")
        }
        guard result.exitStatus == 0 else {
            throw RecipeInputError.invalid(name: "instance_id", reason: "the installer failed in \(instance) (exit \(result.exitStatus)):\n\(result.outputTail)")
        }
        guard let serverID = lines.all.compactMap(Self.sourceServerID(in:)).last else {
            throw RecipeInputError.invalid(name: "instance_id", reason: "the installer in \(instance) did not say which source server it registered:\n\(result.outputTail)")
        }
        let disks = lines.all.filter { $0.hasPrefix("Disk to replicate identified:") }.count
        let hostname = inputs.optionalString("hostname") ?? ""
        try context.created(CloudResource(kind: .agent, id: AgentResourceID.make(instance: instance)), detail: RecipeResourceDetail.json([
            "name": context.say(en: "agent on \(hostname.isEmpty ? instance : hostname)", ja: "\(hostname.isEmpty ? instance : hostname) のエージェント"),
            RecipeResourceRole.detailKey: RecipeResourceRole.agent.rawValue, "subnet": try inputs.string("subnet_id"), "instance": instance,
            "sourceServer": serverID,
        ]))
        return ["source_server_id": .string(serverID), "disks": .integer(disks), "agent_instance_id": .string(instance), "mode": .string("in-guest"), "pid": .integer(0)]
    }

    /// "The following is the source server ID: s-….", as the installer ends.
    static func sourceServerID(in line: String) -> String? {
        guard let range = line.range(of: "source server ID: ") else { return nil }
        let id = line[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
        return id.hasPrefix("s-") ? String(id) : nil
    }
}

private final class LineCollector: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// The recorded id of an agent installed in an instance: `ferry-agent@i-…`, not the
/// instance's own id, so that the two records (and their boxes in a diagram) stay apart.
enum AgentResourceID {
    static func make(instance: String) -> String { "ferry-agent@\(instance)" }
    static func instance(of id: String) -> String { id.hasPrefix("ferry-agent@") ? String(id.dropFirst("ferry-agent@".count)) : id }
}
