import ArgumentParser
import FerryCore
import FerryKit
import SandboxTarget

struct SandboxStartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a stopped instance again on the same 127.0.0.1 ports.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The instance id (i-…).")
    var id: String

    func run() throws {
        let instance = try global.openSandbox().startInstance(id: id)
        if global.output == .json { return try Output.json(instance) }
        print("\(instance.id) is \(instance.state.rawValue)")
    }
}
