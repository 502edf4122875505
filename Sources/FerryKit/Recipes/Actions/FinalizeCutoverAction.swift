import FerryCore
import Foundation

/// Finalize: the cutover is complete, so replication stops, the staging resources go (the
/// replication server, the snapshots in the staging store, the imported volumes and images
/// that only served the launch), and the source server is archived.
public struct FinalizeCutoverAction: RecipeAction {
    public init() {}

    public let name = "migration.finalize"
    public let summary = "Finalize the cutover: stop replication, remove staging resources, archive the source"
    public let inputs = [
        RecipeActionInput("source_server_id", .string, help: "the source server"),
        RecipeActionInput("agent_pid", .integer, default: .integer(0), help: "the agent's process (0: no agent process, it ran inside Ferry)"),
        RecipeActionInput("replication_server_pid", .integer, help: "the replication server's process"),
    ]
    public let outputs = ["lifecycle", "snapshots_removed", "summary"]
    public let requiredCapabilities: [Capability] = []

    public func plan(_ inputs: RecipeInputs) -> [String] {
        ["finalize the cutover of \(inputs.optionalString("source_server_id") ?? "?")", "stop the agent and the replication server",
         "remove the staging snapshots", "archive the source server"]
    }

    public func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let serverID = try inputs.string("source_server_id")
        let servers = context.workspace.sourceServers
        try servers.perform(.finalizeCutover, on: serverID)
        for (role, pid) in [("agent", try inputs.integer("agent_pid")), ("replication server", try inputs.integer("replication_server_pid"))] where pid > 0 {
            RecipeResourceDestroyer.stopProcess(String(pid))
            try context.destroyedRecorded(CloudResource(kind: .process, id: String(pid)))
            context.progress("\(role) (pid \(pid)) stopped")
        }
        try servers.recordIfAllowed(.stop, for: serverID)
        // The replication server was stopped above; its lock goes with it, within moments.
        let lock = try await WorkspaceLock.acquire(workspace: context.workspace, name: StagingStore.writerLockName,
                                                   purpose: "finalize of \(serverID)", patience: .seconds(10))
        defer { withExtendedLifetime(lock) {} }
        let store = try StagingStore(workspace: context.workspace)
        let snapshots = try store.snapshots(sourceServerID: serverID)
        let removed = try store.deleteSnapshots(sourceServerID: serverID)
        context.progress("\(snapshots.count) staging snapshot\(snapshots.count == 1 ? "" : "s") removed, \(removed.bytesReclaimed >> 20) MiB reclaimed")
        let archived = try servers.perform(.archive, on: serverID)
        return ["lifecycle": .string(archived.lifecycleState.rawValue), "snapshots_removed": .integer(snapshots.count),
                "summary": .string("\(serverID) archived after cutover; replication stopped; \(snapshots.count) staging snapshots removed")]
    }
}
