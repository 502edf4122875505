import ArgumentParser

struct AdapterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapter",
        abstract: "Check an adapter with the conformance kit, or start a new external adapter.",
        discussion: "External adapters are executables named ferry-adapter-NAME (see docs/plugin-protocol.md).",
        subcommands: [AdapterTestCommand.self, AdapterNewCommand.self]
    )
}
