import ArgumentParser
import FerryCore
import FerryKit

@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "A migration workbench: replicate machines block by block, test-launch, cut over.",
        discussion: """
            Start with `ferry init` to create a workspace (./.ferry), then `ferry adapters` to \
            see the sources and targets Ferry can use.
            """,
        version: FerryVersion.current,
        subcommands: [
            VersionCommand.self,
            InitCommand.self,
            AdaptersCommand.self,
            AdapterCommand.self,
            SourceCommand.self,
            DoctorCommand.self,
            AWSCommand.self,
            DiskCommand.self,
            AgentCommand.self,
            ReplicationServerCommand.self,
            SnapshotCommand.self,
            RecipeCommand.self,
            WorkshopCommand.self,
            SandboxCommand.self,
        ]
    )
}
