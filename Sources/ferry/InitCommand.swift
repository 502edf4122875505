import ArgumentParser
import FerryCore
import FerryKit

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a workspace: the project's database and staging folder.",
        discussion: "Running it again on an existing workspace changes nothing."
    )

    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        var workspace: String
        var database: String
        var staging: String
        var created: Bool
    }

    func run() throws {
        let (workspace, created) = try Workspace.create(at: global.workspaceURL, ferryVersion: FerryVersion.current)
        let tokenCreated = try AgentTokenStore(workspace: workspace).createIfMissing()
        let result = Result(workspace: workspace.root.path, database: workspace.databaseURL.path, staging: workspace.stagingDirectory.path, created: created)
        switch global.output {
        case .json:
            try Output.json(result)
        case .text:
            print(created ? "Created workspace \(result.workspace)" : "Workspace \(result.workspace) already exists; nothing changed")
            print("  database: \(result.database)")
            print("  staging:  \(result.staging)")
            if tokenCreated { print("Created the project's agent token: `ferry agent token` shows it and how to install the agent") }
        }
    }
}
