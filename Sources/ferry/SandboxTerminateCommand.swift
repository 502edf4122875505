import ArgumentParser
import FerryCore
import FerryKit
import SandboxTarget

struct SandboxTerminateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "terminate", abstract: "Terminate an instance: stop its process, free its ports and delete its disk.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The instance id (i-…).")
    var id: String

    func run() throws {
        let instance = try global.openSandbox().terminateInstance(id: id)
        if global.output == .json { return try Output.json(instance) }
        print("\(instance.id) is \(instance.state.rawValue)")
    }
}
