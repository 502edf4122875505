import ArgumentParser
import FerryCore
import FerryKit
import SandboxTarget

struct SandboxConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "console", abstract: "Show an instance's serial console log.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The instance id (i-…).")
    var id: String

    func run() throws {
        let text = try global.openSandbox().consoleOutput(id: id)
        if global.output == .json { return try Output.json(["instanceID": id, "output": text]) }
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
    }
}
