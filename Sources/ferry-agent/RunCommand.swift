import ArgumentParser
import FerryCore
import FerryReplication
import Foundation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replicate continuously as installed (what the service runs).",
        discussion: "Resumes where it left off: the server says which blocks it already holds, and only the others are sent."
    )

    @Option(help: "Seconds between passes (sooner when a disk changes).")
    var interval: Double = 10

    func run() async throws {
        let settings = try AgentInstallation.readSettings()
        let endpoint = try ReplicationEndpoint(parsing: settings.server, option: "server in \(AgentInstallation.settingsFile.path)")
        let machine = try await ThisMachine.discover(disks: settings.disks)
        let agent = ReplicationAgent(configuration: .init(
            host: endpoint.host, port: endpoint.port, token: Secret(settings.token), pin: try CertificatePin(parsing: settings.pin),
            identity: settings.identity, facts: machine.facts, disks: machine.disks, continuous: true,
            interval: .milliseconds(Int(interval * 1000))
        ))
        say("replicating \(machine.disks.map(\.facts.name).joined(separator: ", ")) to \(endpoint)")
        try await agent.run { event in
            switch event {
            case .connected(let id, let held):
                say("connected as source server \(id); the server holds \(held) blocks")
            case .committed(let summary):
                say("pass \(summary.pass): snapshot \(summary.snapshotID), \(summary.blocksSent) blocks sent in \(String(format: "%.1f", summary.seconds)) s")
            case .reconnecting(let delay, let reason):
                say("connection lost (\(reason)); trying again in \(delay)")
            case .progress:
                break
            }
        }
    }
}
