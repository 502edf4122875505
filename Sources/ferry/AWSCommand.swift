import ArgumentParser

struct AWSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "Work with the AWS-style target directly (credentials as for `ferry doctor`).",
        subcommands: [AWSImportSnapshotCommand.self]
    )
}
