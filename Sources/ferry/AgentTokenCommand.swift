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
        // In the environment, not after --token: a command line is visible to every user of
        // the source machine in `ps`, the environment of a process only to its owner and root.
        let install = "FERRY_AGENT_TOKEN=\(token.reveal()) ferry agent --server \(server)"
        switch global.output {
        case .json:
            try Output.json(["token": token.reveal(), "installCommand": install, "rotated": rotate ? "true" : "false"])
        case .text:
            if rotate { print("The agent token was replaced; agents holding the old one are now refused.\n") }
            print("Project agent token: \(token.reveal())\n")
            print("To add a source machine, copy ferry to it and run, as root:")
            print("  \(install)")
            print("\nThe token goes in the environment rather than after --token, where `ps` would show it to every user.")
            print("Or keep it in a file only root reads: FERRY_AGENT_TOKEN=$(cat /root/ferry-token) ferry agent --server \(server)")
            print("\nWith no --disk the agent identifies the machine's disks itself; add --continuous to keep replicating.")
        }
    }
}
