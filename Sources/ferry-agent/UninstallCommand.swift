import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct UninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Stop replicating and remove the agent, its service and its settings from this machine."
    )

    func run() throws {
        guard geteuid() == 0 else {
            FileHandle.standardError.write(Data("ferry-agent: run it as root: it removes a system service\n".utf8))
            throw ExitCode(1)
        }
        let settings = try? AgentInstallation.readSettings()
        AgentService.systemd.remove()
        AgentService.sysvinit.remove()
        Self.removeFiles()
        say("The Ferry replication agent was uninstalled\(settings.map { "; source server \($0.sourceServerID ?? "?") stays in the project until it is archived" } ?? "").")
    }

    static func removeFiles() {
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: AgentInstallation.command.path)) == AgentInstallation.binary.path {
            try? FileManager.default.removeItem(at: AgentInstallation.command)
        }
        for path in [AgentInstallation.settingsFile.deletingLastPathComponent(), AgentInstallation.stateDirectory, AgentInstallation.binary.deletingLastPathComponent()] {
            try? FileManager.default.removeItem(at: path)
        }
    }
}
