import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import SandboxTarget

struct SandboxStartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a stopped instance again on the same 127.0.0.1 ports.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The instance id (i-…).")
    var id: String

    @Flag(help: "Wait until the guest has booted (its boot scripts ran), as `sandbox launch` waits for the first boot.")
    var wait = false

    func run() throws {
        let sandbox = try global.openSandbox()
        let started = Date()
        var instance = try sandbox.startInstance(id: id)
        if wait {
            if global.output == .text { print("Started \(instance.id); waiting for it to boot…") }
            try sandbox.waitUntilRunning(id: id)
            instance = try sandbox.describeInstance(id: id)
        }
        if global.output == .json { return try Output.json(instance) }
        print("\(instance.id) is \(instance.state.rawValue)\(wait ? " after \(Int(Date().timeIntervalSince(started))) s" : "")")
    }
}
