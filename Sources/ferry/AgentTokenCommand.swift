import ArgumentParser
import FerryCore
import FerryKit

struct AgentTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Show the project's agent token and how to install the agent on a source machine.",
        discussion: "This is the only command that prints the token. --rotate replaces it: agents holding the old token are refused."
    )

    @Flag(help: "Replace the token with a new one.")
    var rotate = false

    @Option(help: ArgumentHelp("The replication server's address as source machines reach it.", valueName: "host:port"))
    var server = "127.0.0.1:\(ReplicationSettings.defaultDataPlanePort)"

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let workspace = try global.openWorkspace()
        let tokens = AgentTokenStore(workspace: workspace)
        try tokens.createIfMissing()
        let token = rotate ? try tokens.rotate() : try tokens.read()
        let install = "ferry agent --server \(server) --token \(token.reveal())"
        switch global.output {
        case .json:
            try Output.json(["token": token.reveal(), "installCommand": install, "rotated": rotate ? "true" : "false"])
        case .text:
            if rotate { print("The agent token was replaced; agents holding the old one are now refused.\n") }
            print("Project agent token: \(token.reveal())\n")
            print("To add a source machine, copy ferry to it and run, as root:")
            print("  \(install)")
            print("\nWith no --disk the agent identifies the machine's disks itself; add --continuous to keep replicating.")
        }
    }
}
