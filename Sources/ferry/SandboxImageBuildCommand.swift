import ArgumentParser
import FerryCore
import FerryKit
import SandboxTarget

struct SandboxImageBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the sandbox's Linux base image from this machine's Debian packages (kernel, busybox, GRUB), offline."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let sandbox = try global.openSandbox()
        let image = try sandbox.buildBaseImage { line in
            if global.output == .text { print(line) }
        }
        if global.output == .json { return try Output.json(image) }
        print("Built \(image.id) (\(image.name)). Launch it with: ferry sandbox launch \(image.id)")
    }
}
