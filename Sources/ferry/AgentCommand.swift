import ArgumentParser

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "The replication agent: run it on a source machine; `ferry agent token` shows how.",
        subcommands: [AgentRunCommand.self, AgentTokenCommand.self],
        defaultSubcommand: AgentRunCommand.self
    )
}
