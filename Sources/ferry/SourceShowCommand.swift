import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct SourceShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one source server: facts, states, replication metrics, and the conversion report of its latest launch."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The source server's id (s-…).")
    var id: String

    @Option(help: "The language of the conversion report: en or ja.")
    var lang = "en"

    func validate() throws {
        guard ["en", "ja"].contains(lang) else { throw ValidationError("--lang must be en or ja") }
    }

    /// The server with its latest launch's conversion, for --output json.
    struct Shown: Encodable {
        var server: SourceServer
        var latestConversion: ConversionShown?

        struct ConversionShown: Encodable {
            var jobID: String
            var conversion: LaunchConversion
        }

        func encode(to encoder: any Encoder) throws {
            try server.encode(to: encoder)  // the server's fields stay at the top, as before
            var container = encoder.container(keyedBy: Key.self)
            try container.encodeIfPresent(latestConversion, forKey: .latestConversion)
        }

        enum Key: String, CodingKey { case latestConversion }
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        let server = try workspace.sourceServers.find(id: id)
        let latest = try workspace.jobs.latestConversion(sourceServerID: server.id)
        if global.output == .json {
            try Output.json(Shown(server: server, latestConversion: latest.map { .init(jobID: $0.jobID, conversion: $0.conversion) }))
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
        if let why = m.replicationError { print("  replication error: \(why)") }
        print("  writes followed:  \(m.writeTracking ?? "no: every pass reads every block")")
        if let eta = m.etaSeconds { print("  ETA:              \(String(format: "%.0f", eta)) s") }
        if let last = m.lastSnapshotAt { print("  last snapshot:    \(last.ISO8601Format())") }
        if let latest {
            print()
            print(ConversionReportText(conversion: latest.conversion, jobID: latest.jobID, japanese: lang == "ja").text)
        }
    }
}
