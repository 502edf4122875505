import ArgumentParser

struct SandboxImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "The sandbox's machine images.",
        subcommands: [SandboxImageBuildCommand.self, SandboxImageExportVMwareCommand.self]
    )
}
