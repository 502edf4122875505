import ArgumentParser
import FerryCore
import FerryReplication
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replicate continuously as installed (what the service runs).",
        discussion: "Resumes where it left off: the server says which blocks it already holds, and only the others are sent."
    )

    enum WriteTrackingChoice: String, ExpressibleByArgument, CaseIterable {
        /// The block layer's trace and frozen points in time where the kernel has them.
        case auto
        /// Every pass reads and hashes every block (what the agent did before it tracked writes).
        case rescan
    }

    @Option(help: "Seconds between points in time (with rescans: between passes, sooner when a disk changes).")
    var interval: Double = 10

    @Option(help: "How writes are followed: auto (the block layer's trace, points in time frozen) or rescan (every pass reads every block).")
    var writeTracking: WriteTrackingChoice = .auto

    func run() async throws {
        let settings = try AgentInstallation.readSettings()
        let endpoint = try ReplicationEndpoint(parsing: settings.server, option: "server in \(AgentInstallation.settingsFile.path)")
        let machine = try await ThisMachine.discover(disks: settings.disks)
        var configuration = ReplicationAgent.Configuration(
            host: endpoint.host, port: endpoint.port, token: Secret(settings.token), pin: try CertificatePin(parsing: settings.pin),
            identity: settings.identity, facts: machine.facts, disks: machine.disks, continuous: true,
            interval: .milliseconds(Int(interval * 1000))
        )
        switch writeTracking {
        case .auto:
            do {
                configuration.tracking = try WriteTracking.linux(disks: machine.disks.map(\.facts.name))
                say("following writes with \(configuration.tracking!.description)")
            } catch {
                say("every pass reads every block: \(error)")
            }
        case .rescan:
            say("every pass reads every block (--write-tracking rescan)")
        }
        let agent = ReplicationAgent(configuration: configuration)
        let points = PointLog()
        say("replicating \(machine.disks.map(\.facts.name).joined(separator: ", ")) to \(endpoint)")
        try await agent.run { event in
            switch event {
            case .connected(let id, let held):
                say("connected as source server \(id); the server holds \(held) blocks")
            case .committed(let summary):
                if let line = points.add(summary) { say(line) }
            case .rescanning(let reason):
                points.restart()
                say("reading every block (\(reason))")
            case .resumed(let blocks):
                say("resumed without reading every block: the trace ran on while the connection was down; \(blocks) blocks written since the last point are compared with the server's")
            case .reconnecting(let delay, let reason):
                say("connection lost (\(reason)); trying again in \(delay)")
            case .progress:
                break
            }
        }
    }
}

/// What the service says about the points it commits: the first after a scan, then a line
/// every 10 minutes at most. A line per point would itself be a write (journald) that makes
/// the next point: a machine doing nothing else would never rest.
final class PointLog: Sendable {
    private struct Tally {
        var sinceScan = 0
        var points = 0
        var blocks = 0
        var longestHold = 0.0
        var lastLine = ContinuousClock.now
    }
    private let tally = Mutex(Tally())
    static let every: Duration = .seconds(600)

    func restart() { tally.withLock { $0.sinceScan = 0 } }

    /// The line to print for this point, if one is due.
    func add(_ summary: AgentPassSummary) -> String? {
        tally.withLock { t in
            t.sinceScan += 1
            t.points += 1
            t.blocks += summary.blocksSent
            t.longestHold = max(t.longestHold, summary.frozenSeconds)
            let held = t.longestHold > 0 ? String(format: ", writes held %.3f s at most", t.longestHold) : ""
            let line: String
            if t.sinceScan == 1 {
                line = "point \(summary.snapshotID) committed after the scan: \(summary.blocksSent) blocks sent\(held)"
            } else if t.lastLine.duration(to: .now) >= Self.every {
                line = "\(t.points) points committed since the last line (the latest \(summary.snapshotID)): \(t.blocks) blocks sent\(held)"
            } else {
                return nil
            }
            t.points = 0
            t.blocks = 0
            t.longestHold = 0
            t.lastLine = .now
            return line
        }
    }
}
