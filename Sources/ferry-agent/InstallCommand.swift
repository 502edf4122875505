import ArgumentParser
import FerryCore
import FerryReplication
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Identify this machine's disks, register it with the replication server, and install the agent as a service.",
        discussion: "Run as root, with the project's token in FERRY_AGENT_TOKEN. Nothing is installed unless the server accepts the token."
    )

    @Option(help: ArgumentHelp("The replication server, as this machine reaches it.", valueName: "host:port"))
    var server: String

    @Option(help: ArgumentHelp("The server's certificate pin (the installer passes it).", valueName: "sha256//…"))
    var pin: String

    @Option(name: .customLong("disk"), help: ArgumentHelp("Replicate this device only (repeatable; default: every disk identified).", valueName: "device"))
    var disks: [String] = []

    func run() async throws {
        do {
            try await install()
        } catch {
            // One line, as the installer promises; nothing was left behind.
            FileHandle.standardError.write(Data("ferry-agent: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func install() async throws {
        guard geteuid() == 0 else { throw AgentCommandError("run it as root: the agent reads the disks and installs a service") }
        guard let token = ProcessInfo.processInfo.environment["FERRY_AGENT_TOKEN"], !token.isEmpty else {
            throw AgentCommandError("the project's token goes in FERRY_AGENT_TOKEN (the installer's -t TOKEN sets it)")
        }
        guard let service = AgentService.detect() else {
            throw AgentCommandError("this machine has neither systemd nor /etc/init.d: the agent cannot run as a service here")
        }
        let endpoint = try ReplicationEndpoint(parsing: server, option: "--server")
        let trusted = try CertificatePin(parsing: pin)
        say("The installation of the Ferry replication agent has started.")
        say("Identifying volumes for replication.")
        let machine = try await ThisMachine.discover(disks: disks)
        for disk in machine.facts.disks {
            say("Disk to replicate identified: \(disk.name) \(ThisMachine.size(disk.sizeBytes))")
        }
        say("All volumes for replication were successfully identified.")
        // Registering first checks the route, the pin and the token before anything is written.
        let previous = try? AgentInstallation.readSettings()
        let identity = previous?.identity ?? machine.identity
        say("Registering this machine with the replication server at \(endpoint)…", terminator: " ")
        let agent = ReplicationAgent(configuration: .init(host: endpoint.host, port: endpoint.port, token: Secret(token), pin: trusted,
                                                          identity: identity, facts: machine.facts, disks: machine.disks, attempts: 1))
        let sourceServerID: String
        do {
            sourceServerID = try await agent.register()
        } catch let failure as AgentNetworkFailure {
            say("failed.")
            throw AgentCommandError("cannot reach the replication server at \(endpoint): \(failure.reason); check that this machine may connect to TCP \(endpoint.port) there (its security groups and routes)")
        } catch {
            say("failed.")
            throw AgentCommandError("\(error)")
        }
        say("Finished.")
        if let previous {
            say("The agent was installed here already (source server \(previous.sourceServerID ?? sourceServerID)): it is installed again, and replicates on from the blocks the server holds after it reads the disks once more.")
        }
        say("Installing the agent onto this machine…", terminator: " ")
        do {
            if previous != nil { service.remove() }
            try installFiles(settings: .init(server: endpoint.description, pin: trusted.description, token: token, identity: identity,
                                             disks: machine.facts.disks.map(\.locator), sourceServerID: sourceServerID, installedAt: Date()))
            try service.install(server: endpoint.description)
        } catch {
            say("failed.")
            service.remove()
            UninstallCommand.removeFiles()
            throw AgentCommandError("\(error); nothing was left installed")
        }
        say("Finished.")
        say("The following is the source server ID: \(sourceServerID).")
        say("The Ferry replication agent was successfully installed; it replicates this machine as a \(service == .systemd ? "systemd" : "SysV") service (ferry-agent).")
    }

    private func installFiles(settings: AgentInstallation.Settings) throws {
        let manager = FileManager.default
        let directory = AgentInstallation.binary.deletingLastPathComponent()
        try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if me.path != AgentInstallation.binary.path {
            let staged = directory.appendingPathComponent(".ferry-agent.new")
            try? manager.removeItem(at: staged)
            try manager.copyItem(at: me, to: staged)
            try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: staged.path)
            guard rename(staged.path, AgentInstallation.binary.path) == 0 else {
                throw AgentCommandError("cannot install \(AgentInstallation.binary.path): \(String(cString: strerror(errno)))")
            }
        }
        try manager.createDirectory(at: AgentInstallation.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try AgentInstallation.write(settings)
        if (try? manager.destinationOfSymbolicLink(atPath: AgentInstallation.command.path)) != AgentInstallation.binary.path {
            try? manager.removeItem(at: AgentInstallation.command)
            try manager.createDirectory(at: AgentInstallation.command.deletingLastPathComponent(), withIntermediateDirectories: true)
            try manager.createSymbolicLink(atPath: AgentInstallation.command.path, withDestinationPath: AgentInstallation.binary.path)
        }
    }
}
