import ArgumentParser
import FerryCore
import FerryKit
import FerryReplication

struct AgentTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Show the project's agent token and how to install the agent on a source machine.",
        discussion: "This is the only command that prints the token. --rotate replaces it: agents holding the old token are refused."
    )

    @Flag(help: "Replace the token with a new one.")
    var rotate = false

    @Option(help: ArgumentHelp("The replication server's address as source machines reach it (default: where this workspace's server says it is reached).", valueName: "host:port"))
    var server: String?

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let workspace = try global.openWorkspace()
        let tokens = AgentTokenStore(workspace: workspace)
        try tokens.createIfMissing()
        let token = rotate ? try tokens.rotate() : try tokens.read()
        let certificate = ReplicationCertificate(workspace: workspace)
        try certificate.createIfMissing()
        let pin = try certificate.pin()
        let running = RunningReplicationServer.current(in: workspace)
        let address = try server.map { try ReplicationEndpoint(parsing: $0, option: "--server").description }
            ?? running?.advertised ?? "127.0.0.1:\(ReplicationSettings.defaultDataPlanePort)"
        // As MGN's: download the installer, run it as root with the token. The download is
        // checked against the project's key (curl's --pinnedpubkey), so is the agent the
        // installer fetches, and so is every connection the agent makes.
        let install = AgentInstallCommand.text(server: address, pin: pin, token: token.reveal())
        switch global.output {
        case .json:
            try Output.json(["token": token.reveal(), "pin": pin.description, "server": address, "installCommand": install, "rotated": rotate ? "true" : "false"])
        case .text:
            if rotate { print("The agent token was replaced; agents holding the old one are now refused.\n") }
            print("Project agent token: \(token.reveal())")
            print("Replication server certificate pin: \(pin)\n")
            print("To add a source machine, run this on it (it needs curl and root):")
            print("  \(install)\n")
            if running == nil && server == nil {
                print("No replication server of this workspace runs now: start one (`ferry replication-server --listen 0.0.0.0:1500`) before you run it,")
                print("and run `ferry agent token --server HOST:PORT` with the address the source machine reaches it at.")
            } else {
                print("The installer checks the machine, downloads the agent from \(address), identifies the disks, registers the machine")
                print("and starts replicating as a service; `sh ferry-installer --uninstall` removes it.")
            }
        }
    }
}
