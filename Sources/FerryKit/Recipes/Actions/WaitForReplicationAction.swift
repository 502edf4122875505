import FerryCore
import Foundation

/// Waits until an agent's machine is registered, its initial sync is complete (READY_FOR_TEST)
/// and replication is continuous, showing bytes, rate and ETA meanwhile.
struct WaitForReplicationAction: RecipeAction {
    init() {}

    let name = "replication.wait"
    let summary = "Wait for initial sync, then continuous replication (and, with `after`, for a pass that began after that time)"
    let inputs = [
        RecipeActionInput("source_server_id", .string, default: .string(""), help: "the source server (what an installer registered)"),
        RecipeActionInput("agent_identity", .string, default: .string(""), help: "or the agent's machine identity (an agent Ferry runs itself)"),
        RecipeActionInput("after", .string, default: .string(""), help: "an ISO 8601 time: also wait for a snapshot of a pass that began after it"),
        RecipeActionInput("timeout_seconds", .integer, default: .integer(900), help: "how long to wait"),
    ]
    let outputs = ["source_server_id", "snapshot_id", "seconds", "replicated_bytes"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] {
        let which = [inputs.optionalString("source_server_id"), inputs.optionalString("agent_identity")].compactMap { $0 }.first { !$0.isEmpty }
        return ["wait until \(which ?? "?") is replicated and continuous"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let serverID = inputs.optionalString("source_server_id") ?? ""
        let identity = inputs.optionalString("agent_identity") ?? ""
        guard !serverID.isEmpty || !identity.isEmpty else {
            throw RecipeInputError.invalid(name: "source_server_id", reason: "give the source server (source_server_id) or the agent's identity (agent_identity)")
        }
        let afterText = inputs.optionalString("after") ?? ""
        let after = afterText.isEmpty ? nil : RecipeTime.parse(afterText)
        if !afterText.isEmpty, after == nil {
            throw RecipeInputError.invalid(name: "after", reason: "'\(afterText)' is not an ISO 8601 time")
        }
        let started = Date()
        let deadline = started.addingTimeInterval(TimeInterval(try inputs.integer("timeout_seconds")))
        let servers = context.workspace.sourceServers
        let store = try StagingStore(workspace: context.workspace)
        var meter = ReplicationRateMeter()
        var lastState = ""
        while Date() < deadline {
            if let server = serverID.isEmpty ? try servers.find(agentIdentity: identity) : try? servers.find(id: serverID) {
                let m = server.replicationMetrics
                let rate = meter.sample(replicatedBytes: m.replicatedBytes, at: Date())
                let state = server.dataReplicationState.rawValue
                context.status(replicationStatus(server.id, state: state, metrics: m, rate: rate, elapsed: Date().timeIntervalSince(started), language: context.language),
                               phaseChanged: state != lastState)
                lastState = state
                let snapshots = try store.snapshots(sourceServerID: server.id)
                let latest = snapshots.first
                // A snapshot's time is when its pass was committed, but the pass may have read the
                // disk before `after`. The pass after a snapshot committed after `after` began
                // reading after it: wait for that second one.
                let sinceAfter = after.map { time in snapshots.filter { $0.takenAt > time }.count } ?? 2
                if server.lifecycleState != .notReady, server.dataReplicationState == .continuous, let latest, sinceAfter >= 2 {
                    let seconds = Int(Date().timeIntervalSince(started).rounded())
                    context.progress(context.say(
                        en: "\(server.id) is \(server.lifecycleState.rawValue), replication \(server.dataReplicationState.rawValue); latest snapshot \(latest.id)",
                        ja: "\(server.id) は \(server.lifecycleState.rawValue)、レプリケーションは \(server.dataReplicationState.rawValue)、最新のスナップショットは \(latest.id) です"))
                    return ["source_server_id": .string(server.id), "snapshot_id": .string(latest.id), "seconds": .integer(seconds),
                            "replicated_bytes": .integer(Int(m.replicatedBytes))]
                }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw RecipeInputError.invalid(name: serverID.isEmpty ? "agent_identity" : "source_server_id",
                                       reason: "\(serverID.isEmpty ? identity : serverID) was not replicated within the timeout; see the replication server's log in \(context.runDirectory.path)")
    }

    /// The source server's replication as a live status: a bar of the bytes replicated, the
    /// rate measured here between two reads of its metrics, the ETA, backlog and lag.
    func replicationStatus(_ serverID: String, state: String, metrics m: ReplicationMetrics, rate: Double?, elapsed: Double, language: String) -> RecipeStatus {
        let say = { (en: String, ja: String) in RecipeWording.pick(language, en: en, ja: ja) }
        var parts = [say("\(ByteCount.text(m.replicatedBytes)) of \(ByteCount.text(m.totalBytes))", "\(ByteCount.text(m.replicatedBytes)) / \(ByteCount.text(m.totalBytes))")]
        if let rate { parts.append(say("\(ByteCount.text(UInt64(rate)))/s", "\(ByteCount.text(UInt64(rate)))/秒")) }
        let remaining = m.totalBytes > m.replicatedBytes ? Double(m.totalBytes - m.replicatedBytes) : 0
        // No ETA while nothing moves (STALLED, DISCONNECTED), nor one no one would wait for.
        let moving = state != DataReplicationState.stalled.rawValue && state != DataReplicationState.disconnected.rawValue
        if moving, let eta = m.etaSeconds ?? rate.flatMap({ $0 > 1 && remaining > 0 ? remaining / $0 : nil }), eta.isFinite, eta < 86400 * 30 {
            parts.append(say("ETA \(RecipeWording.seconds(eta, language))", "残り約 \(RecipeWording.seconds(eta, language))"))
        }
        parts.append(say("backlog \(ByteCount.text(m.backlogBytes))", "バックログ \(ByteCount.text(m.backlogBytes))"))
        if let lag = m.lagSeconds { parts.append(say("lag \(RecipeWording.seconds(lag, language, decimals: 1))", "ラグ \(RecipeWording.seconds(lag, language, decimals: 1))")) }
        let text = "\(serverID) \(state): \(parts.joined(separator: say(", ", "、"))) — \(RecipeWording.seconds(elapsed, language))"
        return RecipeStatus(phase: state, text: text, fraction: m.totalBytes > 0 ? min(Double(m.replicatedBytes) / Double(m.totalBytes), 1) : nil)
    }
}
