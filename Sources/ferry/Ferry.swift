import ArgumentParser
import FerryCore
import FerryKit

@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "A migration workbench: replicate machines block by block, test-launch, cut over.",
        discussion: """
            Start with `ferry workshop`: it migrates a WordPress server step by step on a \
            local sandbox whose instances really boot, explaining each step. For your own \
            machines, `ferry init` creates a workspace (./.ferry) and `ferry adapters` shows \
            the sources and targets Ferry can use.
            """,
        version: FerryVersion.current,
        // The workshop first: it is where a newcomer starts.
        subcommands: [
            WorkshopCommand.self,
            VersionCommand.self,
            InitCommand.self,
            AdaptersCommand.self,
            AdapterCommand.self,
            SourceCommand.self,
            JobCommand.self,
            DoctorCommand.self,
            AWSCommand.self,
            DiskCommand.self,
            AgentCommand.self,
            ReplicationServerCommand.self,
            SnapshotCommand.self,
            RecipeCommand.self,
            SandboxCommand.self,
        ]
    )
}
