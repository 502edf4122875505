import FerryCore
import Foundation

/// Finalize: the cutover is complete, so replication stops, the staging resources go (the
/// replication server and the snapshots in the staging store), and the source server is
/// archived. What the launches created in the target stays, for `recipe destroy`.
struct FinalizeCutoverAction: RecipeAction {
    init() {}

    let name = "migration.finalize"
    let summary = "Finalize the cutover: stop replication, remove staging resources, archive the source"
    let inputs = [
        RecipeActionInput("source_server_id", .string, help: "the source server"),
        RecipeActionInput("agent_pid", .integer, default: .integer(0), help: "the agent's process (0: no agent process, it ran inside Ferry)"),
        RecipeActionInput("replication_server_pid", .integer, help: "the replication server's process"),
        RecipeActionInput("agent_instance_id", .string, default: .string(""), help: "the source instance whose agent to uninstall (an agent installed inside it)"),
        RecipeActionInput("agent_mode", .string, default: .string(""), help: "how the agent ran (agent.install's mode): in-guest agents are uninstalled"),
    ]
    let outputs = ["lifecycle", "snapshots_removed", "summary"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["finalize the cutover of \(inputs.optionalString("source_server_id") ?? "?")", "stop (or uninstall) the agent and stop the replication server",
         "remove the staging snapshots", "archive the source server"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let serverID = try inputs.string("source_server_id")
        // The processes this run started go first: the replication server lets go of the
        // staging store, which finalize then cleans.
        for (role, pid) in [(context.say(en: "agent", ja: "エージェント"), try inputs.integer("agent_pid")),
                            (context.say(en: "replication server", ja: "レプリケーションサーバー"), try inputs.integer("replication_server_pid"))] where pid > 0 {
            await BlockingWork.run { RecipeResourceDestroyer.stopProcess(String(pid)) }
            try context.destroyedRecorded(CloudResource(kind: .process, id: String(pid)))
            context.progress(context.say(en: "\(role) (pid \(pid)) stopped", ja: "\(role) (pid \(pid)) を停止しました"))
        }
        // The agent inside the source machine is uninstalled, as MGN's is when its server is
        // disconnected: it would otherwise try to reach a server that is gone, forever.
        let agentInstance = inputs.optionalString("agent_instance_id") ?? ""
        if inputs.optionalString("agent_mode") == "in-guest", !agentInstance.isEmpty {
            if let commands = try? context.source.runCommand() {
                let result = try? await commands.runCommand(instanceID: agentInstance, command: "\(AgentInstallCommand.installedAgent) uninstall",
                                                            input: nil, timeoutSeconds: 120) { line in context.progress("  \(line)") }
                if result?.exitStatus == 0 {
                    try context.destroyedRecorded(CloudResource(kind: .agent, id: AgentResourceID.make(instance: agentInstance)))
                } else {
                    context.progress(context.say(en: "the agent in \(agentInstance) could not be uninstalled (\(result?.outputTail ?? "no answer")); `ferry recipe destroy` tries again",
                                                 ja: "\(agentInstance) のエージェントをアンインストールできませんでした。`ferry recipe destroy` で再試行します"))
                }
            } else {
                context.progress(context.say(en: "the agent in \(agentInstance) stays installed: the \(context.source.adapterName) adapter cannot run commands in it; run `sh ferry-installer --uninstall` there",
                                             ja: "\(agentInstance) のエージェントは残ります（\(context.source.adapterName) アダプターはコマンドを実行できません）。そこで `sh ferry-installer --uninstall` を実行してください"))
            }
        }
        let result = try await context.migration.finalize(sourceServerID: serverID)
        return ["lifecycle": .string(result.server.lifecycleState.rawValue), "snapshots_removed": .integer(result.snapshotsRemoved),
                "summary": .string("\(serverID) archived after cutover; replication stopped; \(result.snapshotsRemoved) staging snapshots removed")]
    }
}
