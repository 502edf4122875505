import FerryCore
import FerryKit
import FerryTestSupport
import Foundation
import SandboxTarget
import Testing

/// The VMware-shaped Debian guest boots on the devices it was built for, which QEMU emulates:
/// its disk on pvscsi, its NIC a vmxnet3 named ens192 with a static address, in a subnet
/// that holds that address, answering HTTP through its forwarded port. Slow: a Debian boot
/// under emulation, and the image's build on first use (cached for the run).
@Suite(.serialized)
struct DebianGuestBootTests {
    @Test(.timeLimit(.minutes(30)))
    func theVMwareShapedGuestBootsOnPVSCSIAndVMXNET3WithItsStaticAddress() async throws {
        let workspace = try TestWorkspace()
        let cloud = workspace.cloud
        let adapter = workspace.adapter
        let image = try cloud.guestImage(.vmwareDebian, cache: GuestImageCache(directory: GuestImageTestCache.directory))
        #expect(try cloud.imageDetails(id: image.id).hardware == .vmware)

        let vpc = try await adapter.createVPC(cidrBlock: "10.0.0.0/16", tags: ["Name": "datacenter"])
        let subnet = try await adapter.createSubnet(vpcID: vpc.id, cidrBlock: "10.0.0.0/24", availabilityZone: nil, tags: [:])
        let web = try await adapter.createSecurityGroup(vpcID: vpc.id, name: "web", description: "HTTP", tags: [:])
        try await adapter.authorizeIngress(securityGroupID: web.id, rules: [.tcp(80)])
        let settings = LaunchSettings(instanceType: "t3.large", subnetID: subnet.id, securityGroupIDs: [web.id], privateIPPolicy: .fixed("10.0.0.36"))
        let instance = try await adapter.launchInstance(imageID: image.id, settings: settings, userData: nil, name: "vmware-debian")
        defer { _ = try? cloud.terminateInstance(id: instance.id) }

        #expect(try cloud.waitForFirstBoot(id: instance.id, timeout: 900) == .succeeded)
        let endpoint = try await adapter.endpoint(instanceID: instance.id, port: 80)
        // WordPress, not installed yet, sends / to its installation page.
        let answer = try HTTP.waitFor200(endpoint.port, "/wp-admin/install.php", timeout: 120)
        #expect(answer.status == 200)
        let console = try cloud.consoleOutput(id: instance.id)
        // The kernel found its disk through the pvscsi driver as sda, and the NIC is ens192 at its static address.
        #expect(console.contains("vmw_pvscsi"), "\(console.suffix(3000))")
        #expect(console.contains("sda: sda1"), "\(console.suffix(3000))")
        #expect(!console.contains("does not exist.  Dropping to a shell"))
        #expect(console.contains("ens192"), "\(console.suffix(3000))")
        // QEMU forwards the port to the instance's private address (10.0.0.36) and the guest
        // has no DHCP client configured: the answer above came from its static address.
        #expect(console.contains("ip-10-0-0-36"), "its own hostname, not the sandbox's")
        let disks = try cloud.instanceDisks(instanceID: instance.id)
        #expect(disks.map(\.name) == ["/dev/sda"])
    }
}
