import ArgumentParser

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Consistent point-in-time snapshots in the staging store.",
        subcommands: [SnapshotListCommand.self, SnapshotVerifyCommand.self, SnapshotExportCommand.self]
    )
}
