import FerryCore
import FerryKit
import Foundation
import Testing
@testable import VMwareSource

/// Machines found in .vmx files and OVF packages carry the right facts and disks.
@Suite struct DiscoveryTests {
    static let vmx = """
        .encoding = "UTF-8"
        config.version = "8"
        displayName = "web |22one|22"
        guestOS = "ubuntu-64"
        memsize = "4096"
        numvcpus = "2"
        firmware = "efi"
        scsi0.present = "TRUE"
        scsi0:0.present = "TRUE"
        scsi0:0.fileName = "web-disk1.vmdk"
        SCSI0:1.Present = "TRUE"
        scsi0:1.fileName = "data/web-disk2.vmdk"
        scsi0:2.present = "FALSE"
        scsi0:2.fileName = "hidden.vmdk"
        ide1:0.present = "TRUE"
        ide1:0.deviceType = "cdrom-image"
        ide1:0.fileName = "install.iso"
        ethernet0.present = "TRUE"
        ethernet0.virtualDev = "vmxnet3"
        ethernet0.networkName = "VM Network"
        ethernet0.addressType = "generated"
        ethernet0.generatedAddress = "00:0C:29:AA:BB:CC"
        ethernet1.present = "FALSE"
        ethernet1.networkName = "Unused"
        """

    @Test func aVMXWithTwoDisksGivesItsFactsAndBothDisks() throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path("data"), withIntermediateDirectories: true)
        try scratch.qemuImg("create", "-f", "vmdk", scratch.path("web-disk1.vmdk"), "16M")
        try scratch.qemuImg("create", "-f", "vmdk", "-o", "subformat=monolithicFlat", scratch.path("data/web-disk2.vmdk"), "8M")
        try scratch.write("web.vmx", Self.vmx)
        let machines = try VMwareMachine.discover(path: scratch.path("web.vmx"))
        #expect(machines.count == 1)
        let facts = try #require(machines.first)
        #expect(facts.hostname == "web \"one\"")
        #expect(facts.operatingSystem == OperatingSystem(family: "linux", name: "ubuntu-64", version: ""))
        #expect(facts.cpuCount == 2)
        #expect(facts.memoryBytes == 4 << 30)
        #expect(facts.bootMode == .uefi)
        #expect(facts.networkInterfaces == [NetworkInterface(name: "ethernet0", macAddress: "00:0c:29:aa:bb:cc", addresses: [], network: "VM Network")])
        #expect(facts.disks.map(\.name) == ["scsi0:0", "scsi0:1"])
        #expect(facts.disks.map(\.sizeBytes) == [16 << 20, 8 << 20])
        #expect(facts.disks.map(\.isBoot) == [true, false])
        #expect(facts.disks[1].locator == scratch.path("data/web-disk2.vmdk"))
    }

    @Test func aVMXWhoseDiskFileIsMissingIsRefused() throws {
        let scratch = try Scratch()
        try scratch.write("web.vmx", "displayName = \"web\"\nscsi0:0.fileName = \"gone.vmdk\"\n")
        let error = #expect(throws: VMwareSourceError.self) { try VMwareMachine.discover(path: scratch.path("web.vmx")) }
        #expect(error?.description == "\(scratch.path("web.vmx")): disk file of scsi0:0 'gone.vmdk' is missing")
    }

    static func ovf(diskHref: String = "web-disk1.vmdk") -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
          xmlns:vmw="http://www.vmware.com/schema/ovf">
          <References><File ovf:id="file1" ovf:href="\(diskHref)"/></References>
          <DiskSection><Info>Disks</Info>
            <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="16" ovf:capacityAllocationUnits="byte * 2^20"
              ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
          </DiskSection>
          <NetworkSection><Info>Networks</Info><Network ovf:name="VM Network"/></NetworkSection>
          <VirtualSystem ovf:id="web">
            <Info>A web server</Info>
            <Name>web-ova</Name>
            <OperatingSystemSection ovf:id="94" vmw:osType="ubuntu64Guest"><Info>OS</Info></OperatingSystemSection>
            <VirtualHardwareSection>
              <Info>Hardware</Info>
              <Item><rasd:ElementName>2 virtual CPUs</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID>
                <rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
              <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>2048MB</rasd:ElementName>
                <rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>2048</rasd:VirtualQuantity></Item>
              <Item><rasd:Address>00:50:56:01:02:03</rasd:Address><rasd:Connection>VM Network</rasd:Connection>
                <rasd:ElementName>Network adapter 1</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID>
                <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
              <Item><rasd:ElementName>Hard disk 1</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
                <rasd:InstanceID>4</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>
              <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
            </VirtualHardwareSection>
          </VirtualSystem>
        </Envelope>
        """
    }

    @Test func anOVAIsDiscoveredWithItsFactsAndItsDiskReadInPlace() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("disk.raw", size: 16 << 20)
        try scratch.qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw, scratch.path("web-disk1.vmdk"))
        try scratch.write("web.ovf", Self.ovf())
        let tar = try scratch.run("tar", ["--format=ustar", "-cf", "web.ova", "web.ovf", "web-disk1.vmdk"])
        #expect(tar.status == 0, "\(tar.output)")
        try FileManager.default.removeItem(atPath: scratch.path("web-disk1.vmdk"))

        let machines = try VMwareMachine.discover(path: scratch.path("web.ova"))
        let facts = try #require(machines.first)
        #expect(facts.hostname == "web-ova")
        #expect(facts.operatingSystem.family == "linux")
        #expect(facts.cpuCount == 2)
        #expect(facts.memoryBytes == 2 << 30)
        #expect(facts.bootMode == .uefi)
        #expect(facts.networkInterfaces == [NetworkInterface(name: "Network adapter 1", macAddress: "00:50:56:01:02:03", addresses: [], network: "VM Network")])
        #expect(facts.disks.count == 1)
        #expect(facts.disks[0].sizeBytes == 16 << 20)
        #expect(facts.disks[0].locator == scratch.path("web.ova") + "/web-disk1.vmdk")
        let disk = try VMwareSourceAdapter().openDisk(facts.disks[0], configuration: AdapterConfiguration(["path": scratch.path("web.ova")], for: VMwareSourceAdapter().descriptor))
        #expect(try DiskComparison.firstDifference(FileRegionReader(path: raw), disk) == nil)
    }

    @Test func anOVAGivenByARelativePathIsDiscoveredAndItsDiskOpens() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("disk.raw", size: 16 << 20)
        try scratch.qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw, scratch.path("web-disk1.vmdk"))
        try scratch.write("web.ovf", Self.ovf())
        let tar = try scratch.run("tar", ["--format=ustar", "-cf", "web.ova", "web.ovf", "web-disk1.vmdk"])
        #expect(tar.status == 0, "\(tar.output)")
        // The archive as a user names it from where they are: relative to the current
        // directory (reached through `..`, so that the test changes no process-wide state).
        let up = String(repeating: "../", count: FileManager.default.currentDirectoryPath.split(separator: "/").count)
        let relative = up + scratch.path("web.ova").drop { $0 == "/" }
        #expect(!relative.hasPrefix("/"))

        let facts = try #require(try VMwareMachine.discover(path: relative).first)
        #expect(facts.disks.first?.locator == scratch.path("web.ova") + "/web-disk1.vmdk")
        let disk = try VMwareSourceAdapter().openDisk(facts.disks[0], configuration: AdapterConfiguration(["path": relative], for: VMwareSourceAdapter().descriptor))
        #expect(try DiskComparison.firstDifference(FileRegionReader(path: raw), disk) == nil)
        // A relative locator, as an older record may hold, opens too.
        let member = try VMwareMachine.openDisk(locator: relative + "/web-disk1.vmdk")
        #expect(member.size == 16 << 20)
    }

    @Test func anOVFBesideItsDiskIsDiscovered() throws {
        let scratch = try Scratch()
        try scratch.qemuImg("create", "-f", "vmdk", "-o", "subformat=streamOptimized", scratch.path("web-disk1.vmdk"), "16M")
        try scratch.write("web.ovf", Self.ovf())
        let facts = try #require(try VMwareMachine.discover(path: scratch.path("web.ovf")).first)
        #expect(facts.disks.map(\.locator) == [scratch.path("web-disk1.vmdk")])
    }

    @Test func anOVAMemberEscapingTheArchiveIsRefused() throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path("inner"), withIntermediateDirectories: true)
        try scratch.write("evil.txt", "x")
        let tar = try scratch.run("tar", ["--format=ustar", "-C", scratch.path("inner"), "-cPf", scratch.path("evil.ova"), "../evil.txt"])
        #expect(tar.status == 0, "\(tar.output)")
        let error = #expect(throws: VMwareSourceError.self) { try VMwareMachine.discover(path: scratch.path("evil.ova")) }
        #expect(error?.description == "\(scratch.path("evil.ova")): member '../evil.txt' escapes the archive (absolute path or '..')")
    }

    @Test func aMalformedOVFIsRefusedWithItsLine() throws {
        let scratch = try Scratch()
        try scratch.write("bad.ovf", "<Envelope>\n<VirtualSystem>\n</Envelope>\n")
        let error = #expect(throws: VMwareSourceError.self) { try VMwareMachine.discover(path: scratch.path("bad.ovf")) }
        #expect(error?.description.hasPrefix("\(scratch.path("bad.ovf")): malformed XML at line 3") == true)
    }

    @Test func theAdapterIsAvailable() {
        #expect(VMwareSourceAdapter().descriptor.availability.isAvailable)
    }
}
