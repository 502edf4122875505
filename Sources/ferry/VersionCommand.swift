import ArgumentParser
import FerryCore
import FerryKit

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Ferry's version.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        switch global.output {
        case .text: print("ferry \(FerryVersion.current)")
        case .json: try Output.json(["version": FerryVersion.current])
        }
    }
}
