import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct SourceShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one source server: facts, states, replication metrics.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The source server's id (s-…).")
    var id: String

    func run() throws {
        let server = try global.openWorkspace().sourceServers.find(id: id)
        if global.output == .json {
            try Output.json(server)
            return
        }
        let facts = server.facts
        print("Source server \(server.id) (\(facts.hostname)), adapter \(server.adapter)")
        print("  lifecycle:        \(server.lifecycleState.rawValue)")
        print("  next actions:     \(LifecycleTransitions.allowedActions(in: server.lifecycleState).map(\.rawValue).joined(separator: ", "))")
        print("  data replication: \(server.dataReplicationState.rawValue)")
        let os = [facts.operatingSystem.name, facts.operatingSystem.version].filter { !$0.isEmpty }.joined(separator: " ")
        print("  OS:               \(os.isEmpty ? facts.operatingSystem.family : os)")
        print("  CPUs:             \(facts.cpuCount)")
        print("  memory:           \(Output.bytes(facts.memoryBytes))")
        for nic in facts.networkInterfaces {
            print("  NIC \(nic.name):  \(nic.macAddress ?? "-") \(nic.addresses.joined(separator: " "))")
        }
        for disk in facts.disks {
            print("  disk \(disk.name):  \(Output.bytes(disk.sizeBytes))\(disk.isBoot ? " (boot)" : "")")
        }
        let m = server.replicationMetrics
        print("  replicated:       \(Output.bytes(m.replicatedBytes)) of \(Output.bytes(m.totalBytes)), backlog \(Output.bytes(m.backlogBytes))")
        if let lag = m.lagSeconds { print("  lag:              \(String(format: "%.1f", lag)) s") }
        if let eta = m.etaSeconds { print("  ETA:              \(String(format: "%.0f", eta)) s") }
        if let last = m.lastSnapshotAt { print("  last snapshot:    \(last.ISO8601Format())") }
    }
}
