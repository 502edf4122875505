import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import SandboxTarget

struct SandboxLaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Launch an instance from an image and wait for its first boot.",
        discussion: "Without --subnet the instance goes into the sandbox's default VPC, whose default security group opens TCP 22 and 80."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image's id (ami-…) or name (ferry-debian-wordpress); see `ferry sandbox images`.")
    var image: String

    @Option(name: .customLong("user-data"), help: ArgumentHelp("A script the guest runs at its first boot.", valueName: "file"))
    var userData: String?

    @Flag(help: "Use the built-in WordPress-like blog as user data.")
    var wordpress = false

    @Option(name: .customLong("instance-type"), help: "The instance type (memory and vCPUs), e.g. t3.micro. Default: the smallest the image runs on (t3.micro for the busybox image).")
    var instanceType: String?

    @Option(help: "The subnet id (subnet-…).")
    var subnet: String?

    @Option(name: .customLong("security-group"), help: "A security group id (sg-…); repeat for several.")
    var securityGroups: [String] = []

    @Option(name: .customLong("private-ip"), help: "A private IP address inside the subnet.")
    var privateIP: String?

    @Option(help: "A name for the instance.")
    var name: String?

    @Flag(name: .customLong("no-wait"), help: "Return once QEMU has started, without waiting for the first boot.")
    var noWait = false

    @Option(help: "How long to wait for the first boot, in seconds (a Debian guest takes a minute or two under emulation).")
    var timeout: Double = 600

    func run() throws {
        if wordpress, userData != nil { throw ValidationError("give --user-data or --wordpress, not both") }
        let script: String? = try wordpress ? BuiltInRecipes.wordPressUserData : userData.map { path in
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read user data file \(path)") }
            return String(decoding: data, as: UTF8.self)
        }
        let sandbox = try global.openSandbox()
        // A name stands for the newest image of that name, as `image.find` does in recipes.
        let imageID = try sandbox.describeImages().last { $0.name == image }?.id ?? image
        let details = try sandbox.imageDetails(id: imageID)
        let type = instanceType ?? InstanceType.smallest(fittingMiB: details.minimumMemoryMiB).name
        let settings = LaunchSettings(
            instanceType: type, subnetID: subnet, securityGroupIDs: securityGroups,
            privateIPPolicy: privateIP.map { .fixed($0) } ?? .automatic
        )
        let started = Date()
        let instance = try sandbox.launchInstance(imageID: imageID, settings: settings, userData: script, name: name)
        if global.output == .text { print("Launched \(instance.id) at \(instance.privateIPAddress ?? "-"); waiting for its first boot…") }
        if let address = details.image.tags[SandboxCloud.staticAddressTag], address.split(separator: "/").first.map(String.init) != instance.privateIPAddress {
            // The sandbox forwards ports to the private address it gave; the guest does not take it.
            FileHandle.standardError.write(Data("""
            Note: this guest keeps its static address \(address), as the VMware VM it stands for; \
            the sandbox forwards its ports to \(instance.privateIPAddress ?? "-"), so it will not answer them. \
            Launch it with --subnet and --private-ip \(address.split(separator: "/")[0]) in a subnet that holds that address.

            """.utf8))
        }
        if !noWait { try sandbox.waitForFirstBoot(id: instance.id, timeout: timeout) }
        let status = try sandbox.instanceStatus(id: instance.id)
        if global.output == .json { return try Output.json(status) }
        if status.firstBoot == .failed {
            throw UserDataFailed(instanceID: instance.id)
        }
        if !noWait { print("First boot \(status.firstBoot.rawValue) after \(Int(Date().timeIntervalSince(started))) s.") }
        for port in status.forwardedPorts { print("  guest port \(port.guestPort) → 127.0.0.1:\(port.hostPort)") }
    }
}

/// The guest booted but its user data exited with an error: the instance keeps running, for a look.
struct UserDataFailed: Error, CustomStringConvertible {
    var instanceID: String
    var description: String {
        "\(instanceID) booted but its user data failed; see `ferry sandbox console \(instanceID)` (the instance is still running)"
    }
}
