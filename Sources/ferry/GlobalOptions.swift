import ArgumentParser
import FerryCore
import FerryKit
import Foundation

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The workspace folder (default: $FERRY_WORKSPACE, else ./.ferry).", valueName: "path"))
    var workspace: String?

    @Option(name: .long, help: "Output format: text for people, json for programs.")
    var output: OutputFormat = .text

    var workspaceURL: URL { Workspace.resolvePath(explicit: workspace) }

    /// The existing workspace, or an error that says how to create one.
    func openWorkspace() throws -> Workspace {
        try Workspace.open(at: workspaceURL)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}
