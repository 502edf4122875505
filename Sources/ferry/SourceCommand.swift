import ArgumentParser

struct SourceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source",
        abstract: "Source servers: the machines being migrated.",
        subcommands: [SourceListCommand.self, SourceShowCommand.self,
            SourceAddCommand.self, SourceRetentionCommand.self]
    )
}
