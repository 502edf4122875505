import ArgumentParser
import FerryCore
import FerryKit
import SandboxTarget

struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "The embedded local cloud: networks, identity, volumes, images, and instances that boot under QEMU.",
        subcommands: [
            SandboxStatusCommand.self, SandboxImageCommand.self, SandboxImagesCommand.self, SandboxLaunchCommand.self,
            SandboxStopCommand.self, SandboxStartCommand.self, SandboxTerminateCommand.self, SandboxConsoleCommand.self,
            SandboxDestroyCommand.self, SandboxRunCommandCommand.self, SandboxSecurityGroupCommand.self, SandboxRelayCommand.self,
        ]
    )
}

extension GlobalOptions {
    /// The sandbox of the workspace (an error that says `ferry init` when there is none).
    func openSandbox() throws -> SandboxCloud {
        try BuiltInAdapters.sandbox(workspaceRoot: workspaceURL).cloud()
    }
}

extension ForwardedPort {
    var summary: String { "127.0.0.1:\(hostPort)→\(guestPort)" }
}
