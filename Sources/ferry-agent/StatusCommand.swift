import ArgumentParser
import Foundation
import PhysicalSource
import PhysicalSource

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show where this machine replicates to and whether the service runs.")

    func run() throws {
        let settings = try AgentInstallation.readSettings()
        say("server: \(settings.server)")
        say("source server: \(settings.sourceServerID ?? "not registered")")
        say("disks: \(settings.disks.joined(separator: ", "))")
        say("service: \(AgentService.detect()?.state() ?? "no service manager")")
    }
}

struct FactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "facts", abstract: "Print this machine's facts as the agent reports them (JSON).")

    func run() async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        say(String(decoding: try encoder.encode(LocalMachine().facts()), as: UTF8.self))
    }
}
