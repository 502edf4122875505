import ArgumentParser
import FerryCore
import FerryKit
import SandboxTarget

struct SandboxStopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop an instance (its QEMU process); its disk and ports stay.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The instance id (i-…).")
    var id: String

    func run() throws {
        let instance = try global.openSandbox().stopInstance(id: id)
        if global.output == .json { return try Output.json(instance) }
        print("\(instance.id) is \(instance.state.rawValue)")
    }
}
