import Foundation
@testable import SandboxTarget
import Testing

/// The baseline of a conversion, with a plain qemu-system-x86_64: the VMware-shaped guest does
/// not find its root disk on virtio. (The guests booting on their own devices and serving
/// WordPress are tested through the sandbox: DebianGuestBootTests, and the Debian workshop.)
extension DebianGuestBuilderTests {
    @Test func vmwareDebianOnVirtioCannotFindItsRootDisk() throws {
        let disk = try GuestDisks.disk(.vmwareDebian)
        let guest = try DirectQEMUGuest(disk: disk, hardware: .sandbox, memoryMiB: GuestProfile.vmwareDebian.minimumMemoryMiB, instanceID: "i-\(UUID().uuidString.prefix(8).lowercased())", localHostname: "ignored", userData: "")
        defer { guest.stop() }
        let kernel = try guest.waitForConsole("FERRY-KERNEL-STARTED", timeout: 120)
        // initramfs-tools waits for the root device (rootdelay), then gives up and starts a shell.
        let gaveUp = try guest.waitForConsole("ALERT!  /dev/sda1 does not exist", timeout: 300)
        #expect(guest.consoleText.contains("Gave up waiting for root file system device"))
        #expect(!guest.consoleText.contains("FERRY-BOOT-READY"))
        print("vmware-debian on virtio: kernel at \(Int(kernel)) s, initramfs gave up at \(Int(gaveUp)) s")
    }
}
