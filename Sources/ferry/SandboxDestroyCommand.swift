import ArgumentParser
import FerryCore
import FerryKit
import SandboxTarget

struct SandboxDestroyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Terminate every sandbox instance and delete every sandbox resource of the workspace.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let removed = try global.openSandbox().destroy()
        if global.output == .json { return try Output.json(["removedRecords": removed]) }
        print("Removed \(removed) sandbox records, their processes and files.")
    }
}
