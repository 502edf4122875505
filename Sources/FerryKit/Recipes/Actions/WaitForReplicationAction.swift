import FerryCore
import Foundation

/// Waits until an agent's machine is registered, its initial sync is complete (READY_FOR_TEST)
/// and replication is continuous, showing bytes, rate and ETA meanwhile.
struct WaitForReplicationAction: RecipeAction {
    init() {}

    let name = "replication.wait"
    let summary = "Wait for initial sync, then continuous replication (and, with `after`, for a pass that began after that time)"
    let inputs = [
        RecipeActionInput("agent_identity", .string, help: "the agent's machine identity"),
        RecipeActionInput("after", .string, default: .string(""), help: "an ISO 8601 time: also wait for a snapshot of a pass that began after it"),
        RecipeActionInput("timeout_seconds", .integer, default: .integer(900), help: "how long to wait"),
    ]
    let outputs = ["source_server_id", "snapshot_id", "seconds", "replicated_bytes"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] { ["wait until \(inputs.optionalString("agent_identity") ?? "?") is replicated and continuous"] }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let identity = try inputs.string("agent_identity")
        let afterText = inputs.optionalString("after") ?? ""
        let after = afterText.isEmpty ? nil : RecipeTime.parse(afterText)
        if !afterText.isEmpty, after == nil {
            throw RecipeInputError.invalid(name: "after", reason: "'\(afterText)' is not an ISO 8601 time")
        }
        let started = Date()
        let deadline = started.addingTimeInterval(TimeInterval(try inputs.integer("timeout_seconds")))
        let servers = context.workspace.sourceServers
        let store = try StagingStore(workspace: context.workspace)
        var lastReport = Date.distantPast
        while Date() < deadline {
            if let server = try servers.find(agentIdentity: identity) {
                let m = server.replicationMetrics
                if Date().timeIntervalSince(lastReport) >= 2 {
                    lastReport = Date()
                    let eta = m.etaSeconds.map { String(format: ", ETA %.0f s", $0) } ?? ""
                    context.progress("\(server.id): \(server.dataReplicationState.rawValue), \(m.replicatedBytes >> 20) of \(m.totalBytes >> 20) MiB, backlog \(m.backlogBytes >> 20) MiB\(eta)\(m.lagSeconds.map { String(format: ", lag %.1f s", $0) } ?? "")")
                }
                let snapshots = try store.snapshots(sourceServerID: server.id)
                let latest = snapshots.first
                // A snapshot's time is when its pass was committed, but the pass may have read the
                // disk before `after`. The pass after a snapshot committed after `after` began
                // reading after it: wait for that second one.
                let sinceAfter = after.map { time in snapshots.filter { $0.takenAt > time }.count } ?? 2
                if server.lifecycleState != .notReady, server.dataReplicationState == .continuous, let latest, sinceAfter >= 2 {
                    let seconds = Int(Date().timeIntervalSince(started).rounded())
                    context.progress("\(server.id) is \(server.lifecycleState.rawValue), replication \(server.dataReplicationState.rawValue); latest snapshot \(latest.id)")
                    return ["source_server_id": .string(server.id), "snapshot_id": .string(latest.id), "seconds": .integer(seconds),
                            "replicated_bytes": .integer(Int(m.replicatedBytes))]
                }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw RecipeInputError.invalid(name: "agent_identity", reason: "\(identity) was not replicated within the timeout; see the agent's log in \(context.runDirectory.path)")
    }
}
