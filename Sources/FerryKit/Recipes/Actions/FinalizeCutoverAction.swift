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
    ]
    let outputs = ["lifecycle", "snapshots_removed", "summary"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["finalize the cutover of \(inputs.optionalString("source_server_id") ?? "?")", "stop the agent and the replication server",
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
        let result = try await context.migration.finalize(sourceServerID: serverID)
        return ["lifecycle": .string(result.server.lifecycleState.rawValue), "snapshots_removed": .integer(result.snapshotsRemoved),
                "summary": .string("\(serverID) archived after cutover; replication stopped; \(result.snapshotsRemoved) staging snapshots removed")]
    }
}
