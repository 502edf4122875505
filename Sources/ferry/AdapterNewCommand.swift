import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct AdapterNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a new external adapter that builds and passes the conformance kit, to fill in.",
        discussion: """
            ferry adapter new my-images --kind source --lang python
            ferry adapter new my-images --kind source --lang swift --dir ~/src/ferry-adapter-my-images
            The adapter starts as a working reader of raw disk images; TODO comments mark what to change.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The adapter's name: lowercase letters, digits and dashes.")
    var name: String

    @Option(help: "The adapter's kind (only source scaffolds exist yet).")
    var kind: AdapterKind

    @Option(help: "The language of the scaffold.")
    var lang: AdapterScaffold.Language = .python

    @Option(help: ArgumentHelp("Where to write it (default: ./ferry-adapter-NAME).", valueName: "path"))
    var dir: String?

    func run() throws {
        let scaffold = try AdapterScaffold(name: name, kind: kind, language: lang)
        let directory = URL(fileURLWithPath: dir ?? scaffold.executableName, isDirectory: true).standardizedFileURL
        let files = try scaffold.write(to: directory)
        switch global.output {
        case .json:
            try Output.json(ScaffoldReport(directory: directory.path, files: files, build: scaffold.buildCommand,
                                           executable: directory.appendingPathComponent(scaffold.executablePath).path))
        case .text:
            print("Wrote adapter '\(name)' (\(lang.rawValue)) in \(directory.path):")
            for file in files { print("  \(file)") }
            print("\nNext:")
            var step = 1
            if let build = scaffold.buildCommand, !build.isEmpty {
                print("  \(step). cd \(directory.path) && \(build)")
                step += 1
            }
            let folder = directory.appendingPathComponent(scaffold.executablePath).deletingLastPathComponent().path
            print("  \(step). FERRY_PLUGIN_PATH=\(folder) ferry adapters")
            print("  \(step + 1). FERRY_PLUGIN_PATH=\(folder) ferry adapter test \(name) --option path=disk.img")
        }
    }
}

struct ScaffoldReport: Encodable {
    var directory: String
    var files: [String]
    var build: String?
    var executable: String
}

extension AdapterKind: ExpressibleByArgument {}
extension AdapterScaffold.Language: ExpressibleByArgument {}
