import Foundation
@testable import SandboxTarget
import Testing

/// The Debian guests booted under QEMU (TCG) on the devices of their profile, with a plain
/// qemu-system-x86_64: the boot protocol's markers, WordPress installed over HTTP as Ferry
/// does it, then its REST API and XML-RPC. And the baseline of a conversion: the VMware-shaped
/// guest does not find its root disk on virtio.
extension DebianGuestBuilderTests {
    @Test func debianWordPressBootsOnVirtioAndServesWordPress() throws {
        try bootAndInstallWordPress(.debianWordPress)
    }

    @Test func vmwareDebianBootsOnPVSCSIAndVMXNET3AndServesWordPress() throws {
        try bootAndInstallWordPress(.vmwareDebian)
    }

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

    private func bootAndInstallWordPress(_ profile: GuestProfile) throws {
        let disk = try GuestDisks.disk(profile)
        let instanceID = "i-\(UUID().uuidString.prefix(8).lowercased())"
        let guest = try DirectQEMUGuest(
            disk: disk, hardware: profile.hardware, memoryMiB: profile.minimumMemoryMiB, instanceID: instanceID,
            localHostname: "from-metadata", userData: "#!/bin/sh\necho \"user data ran as $(id -un)\"\n"
        )
        defer { guest.stop() }
        let kernel = try guest.waitForConsole("FERRY-KERNEL-STARTED", timeout: 120)
        let firstBoot = try guest.waitForConsole("FERRY-FIRST-BOOT ", timeout: 300)
        #expect(guest.consoleText.contains("FERRY-FIRST-BOOT SUCCEEDED \(instanceID)"))
        #expect(guest.consoleText.contains("user data ran as root"))
        let ready = try guest.waitForConsole("FERRY-BOOT-READY \(instanceID)", timeout: 300)
        let http200 = try guest.waitFor200("/wp-admin/install.php", timeout: 360)
        let rss = guest.residentMiB
        print("\(profile.rawValue) on \(profile.hardware.summary), -m \(profile.minimumMemoryMiB): kernel at \(Int(kernel)) s, first boot at \(Int(firstBoot)) s, ready at \(Int(ready)) s, first HTTP 200 at \(Int(http200)) s, QEMU RSS \(rss) MiB")

        // The front page sends a visitor to the installer, at the address it was asked by.
        let front = try guest.request("GET", "/")
        #expect(front.status == 302)
        #expect(front.headers["location"] == "http://127.0.0.1:\(guest.port)/wp-admin/install.php")

        // Ferry's install: the form of wp-admin/install.php?step=2.
        let form = [("weblog_title", "Ferry Blog"), ("user_name", "admin"), ("admin_password", "Ferry-Test-Pass-1"),
                    ("admin_password2", "Ferry-Test-Pass-1"), ("pw_weak", "1"), ("admin_email", "admin@example.com"), ("blog_public", "0")]
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        let installed = try guest.request("POST", "/wp-admin/install.php?step=2", body: body)
        #expect(installed.status == 200)
        #expect(installed.body.contains("Success!"))

        let xmlrpc = try guest.request("POST", "/xmlrpc.php", body: Self.newPostCall(title: "Posted over XML-RPC"), contentType: "text/xml")
        #expect(xmlrpc.status == 200)
        #expect(xmlrpc.body.contains("<methodResponse>") && !xmlrpc.body.contains("<fault>"), "\(xmlrpc.body.prefix(400))")
        let posts = try guest.request("GET", "/?rest_route=/wp/v2/posts")
        #expect(posts.status == 200)
        #expect(posts.body.contains("Posted over XML-RPC"))
        #expect(posts.body.contains("Hello world!"))
        let home = try guest.request("GET", "/")
        #expect(home.status == 200)
        #expect(home.body.contains("Ferry Blog"))
    }

    private static func newPostCall(title: String) -> String {
        """
        <?xml version="1.0"?><methodCall><methodName>wp.newPost</methodName><params>\
        <param><value><int>1</int></value></param><param><value><string>admin</string></value></param>\
        <param><value><string>Ferry-Test-Pass-1</string></value></param><param><value><struct>\
        <member><name>post_title</name><value><string>\(title)</string></value></member>\
        <member><name>post_content</name><value><string>Written by a test.</string></value></member>\
        <member><name>post_status</name><value><string>publish</string></value></member>\
        </struct></value></param></params></methodCall>
        """
    }
}
