import ArgumentParser

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "The replication agent: `ferry agent token` prints the command that installs it on a source machine (ferry-agent, from the replication server); `ferry agent run` replicates images, devices or an adapter's machines from here.",
        subcommands: [AgentRunCommand.self, AgentTokenCommand.self],
        defaultSubcommand: AgentRunCommand.self
    )
}
