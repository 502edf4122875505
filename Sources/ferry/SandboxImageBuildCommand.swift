import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import SandboxTarget

struct SandboxImageBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a guest image: the busybox base image, or a Debian guest from Debian's package archive.",
        discussion: """
        Profiles (each registered as the image named in brackets):
          busybox           this machine's kernel with busybox, built offline in
                            seconds [ferry-sandbox-linux]
          debian-wordpress  Debian 12, systemd, GRUB, apache2 + PHP, MariaDB and
                            Debian's WordPress, on virtio [ferry-debian-wordpress]
          vmware-debian     the same system shaped like a VMware VM: pvscsi disk,
                            vmxnet3 NIC ens192 with the static address 10.0.0.36,
                            VMware drivers in its initramfs, open-vm-tools
                            [ferry-vmware-debian]

        The Debian profiles are built with mmdebstrap from this machine's apt
        sources (a minute or two; as root; Debian's archive needed once) and kept
        in a cache shared by workspaces ($FERRY_GUEST_CACHE, else
        ~/.cache/ferry/guests): another workspace copies the cached disk.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("busybox, debian-wordpress or vmware-debian.", valueName: "profile"))
    var profile: String = GuestProfile.busybox.rawValue

    func validate() throws {
        guard GuestProfile.named(profile) != nil else {
            throw ValidationError("unknown profile '\(profile)' (profiles: \(GuestProfile.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    func run() throws {
        let sandbox = try global.openSandbox()
        let image = try sandbox.buildImage(GuestProfile.named(profile)!) { line in
            if global.output == .text { print(line) }
        }
        if global.output == .json { return try Output.json(image) }
        print("Built \(image.id) (\(image.name)). Launch it with: ferry sandbox launch \(image.id)")
    }
}
