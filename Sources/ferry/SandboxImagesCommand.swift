import ArgumentParser
import FerryCore
import FerryKit
import SandboxTarget

struct SandboxImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List the sandbox's machine images.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let images = try global.openSandbox().describeImages()
        if global.output == .json { return try Output.json(images) }
        if images.isEmpty {
            print("No images yet. Build the base image with `ferry sandbox image build`.")
            return
        }
        Output.table(["ID", "NAME", "BOOT", "VOLUMES"], images.map { [$0.id, $0.name, $0.bootMode.rawValue, $0.volumeIDs.joined(separator: " ")] })
    }
}
