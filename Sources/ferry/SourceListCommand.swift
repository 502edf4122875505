import ArgumentParser
import FerryCore
import FerryKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct SourceListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the source servers of the workspace.",
        discussion: "With --watch, the list is refreshed until Ctrl-C: redrawn in place on a terminal, one table per interval otherwise."
    )

    @Flag(help: "Refresh the list every --interval seconds until Ctrl-C.")
    var watch = false

    @Option(help: ArgumentHelp("Seconds between two refreshes of --watch.", valueName: "seconds"))
    var interval: Double = 2

    @Option(help: ArgumentHelp("With --watch, stop after this many lists (for scripts and logs).", valueName: "n"))
    var count: Int?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard interval >= 0.1, interval.isFinite else { throw ValidationError("--interval must be at least 0.1 seconds") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if count != nil, !watch { throw ValidationError("--count is for --watch") }
    }

    func run() async throws {
        let workspace = try global.openWorkspace()
        guard watch else { return try show(try workspace.sourceServers.list()) }
        // On a terminal the screen is redrawn; in a log each refresh is a table of its own,
        // headed by its time, so that the log reads as a history.
        let interactive = isatty(STDOUT_FILENO) == 1 && global.output == .text
        var shown = 0
        while true {
            let servers = try workspace.sourceServers.list()
            if interactive { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            if global.output == .text {
                print("\(Date().ISO8601Format()) — every \(Self.format(interval)) s; Ctrl-C stops")
            }
            try show(servers)
            if global.output == .text, !interactive { print("") }
            Output.flush()
            shown += 1
            if let count, shown >= count { return }
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }

    private func show(_ servers: [SourceServer]) throws {
        switch global.output {
        case .json:
            try Output.json(servers)
        case .text:
            if servers.isEmpty {
                print("No source servers yet. Install the agent on a machine (ferry agent) or add one (ferry source add).")
                return
            }
            Output.table(
                ["ID", "HOSTNAME", "ADAPTER", "LIFECYCLE", "REPLICATION", "REPLICATED", "LAG", "ETA", "DISKS"],
                servers.map { s in
                    let m = s.replicationMetrics
                    let replicated = m.totalBytes > 0 ? "\(Output.bytes(m.replicatedBytes)) (\(Int(Double(m.replicatedBytes) * 100 / Double(m.totalBytes)))%)" : "-"
                    return [s.id, s.facts.hostname, s.adapter, s.lifecycleState.rawValue, s.dataReplicationState.rawValue, replicated,
                            m.lagSeconds.map { "\(Self.format($0)) s" } ?? "-", m.etaSeconds.map { "\(Self.format($0)) s" } ?? "-",
                            Output.bytes(s.facts.disks.reduce(0) { $0 + $1.sizeBytes })]
                }
            )
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}
