import Foundation

/// The text files of a VMware virtual machine, written the way ESXi and ovftool write them: a
/// .vmx, a disk descriptor whose extent is a `-flat.vmdk` (ESXi's layout on a datastore), and
/// an OVF descriptor for an .ova. Written by hand: no package writes VMware's formats; this
/// adapter's own readers are the first check of what is written here, qemu-img the second.
public struct VMwareMachineFiles: Sendable {
    /// The devices of the machine, in VMware's names.
    public enum DiskController: String, Sendable {
        /// VMware Paravirtual SCSI: `scsi0.virtualDev = "pvscsi"`, OVF subtype VirtualSCSI.
        case pvscsi
        /// LSI Logic parallel SCSI, the default of older VMs.
        case lsilogic
    }

    public enum NetworkAdapter: String, Sendable {
        case vmxnet3
        case e1000
    }

    public var name: String
    /// VMware's guest OS identifier (`debian12-64`).
    public var guestOS: String
    public var memoryMiB: Int
    public var cpus: Int
    public var controller: DiskController
    public var networkAdapter: NetworkAdapter
    public var networkName = "VM Network"

    public init(name: String, guestOS: String, memoryMiB: Int, cpus: Int, controller: DiskController, networkAdapter: NetworkAdapter) {
        self.name = name
        self.guestOS = guestOS
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.controller = controller
        self.networkAdapter = networkAdapter
    }

    /// The hardware version of vSphere 7.0 U2, which knows every device used here.
    static let hardwareVersion = 19

    /// The .vmx of a machine whose first disk is `descriptorFile`.
    public func vmx(descriptorFile: String) -> String {
        let lines: [(String, String)] = [
            (".encoding", "UTF-8"),
            ("config.version", "8"),
            ("virtualHW.version", "\(Self.hardwareVersion)"),
            ("displayName", name),
            ("guestOS", guestOS),
            ("firmware", "bios"),
            ("memSize", "\(memoryMiB)"),
            ("numvcpus", "\(cpus)"),
            ("scsi0.present", "TRUE"),
            ("scsi0.virtualDev", controller.rawValue),
            ("scsi0:0.present", "TRUE"),
            ("scsi0:0.deviceType", "scsi-hardDisk"),
            ("scsi0:0.fileName", descriptorFile),
            ("ethernet0.present", "TRUE"),
            ("ethernet0.virtualDev", networkAdapter.rawValue),
            ("ethernet0.networkName", networkName),
            ("ethernet0.addressType", "generated"),
            ("tools.syncTime", "FALSE"),
        ]
        return lines.map { "\($0.0) = \"\(Self.escape($0.1))\"" }.joined(separator: "\n") + "\n"
    }

    /// A descriptor whose one extent is the flat file `flatFile` of `capacity` bytes (a
    /// multiple of 512), as ESXi writes for a disk on a VMFS datastore.
    public func flatDescriptor(flatFile: String, capacity: UInt64) -> String {
        let sectors = capacity / 512
        // The geometry ESXi reports for SCSI disks: 255 heads, 63 sectors per track.
        let cylinders = max(1, sectors / (255 * 63))
        return """
        # Disk DescriptorFile
        version=1
        encoding="UTF-8"
        CID=fffffffe
        parentCID=ffffffff
        createType="vmfs"

        # Extent description
        RW \(sectors) VMFS "\(flatFile)"

        # The Disk Data Base
        #DDB

        ddb.adapterType = "lsilogic"
        ddb.geometry.cylinders = "\(cylinders)"
        ddb.geometry.heads = "255"
        ddb.geometry.sectors = "63"
        ddb.thinProvisioned = "1"
        ddb.virtualHWVersion = "\(Self.hardwareVersion)"

        """
    }

    /// The OVF descriptor of an .ova holding this machine with one streamOptimized disk.
    public func ovf(diskFile: String, diskFileBytes: UInt64, capacity: UInt64) -> String {
        let controllerSubtype = controller == .pvscsi ? "VirtualSCSI" : "lsilogic"
        let nicSubtype = networkAdapter == .vmxnet3 ? "VmxNet3" : "E1000"
        func xml(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
          xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
          xmlns:vmw="http://www.vmware.com/schema/ovf">
          <References><File ovf:id="file1" ovf:href="\(xml(diskFile))" ovf:size="\(diskFileBytes)"/></References>
          <DiskSection><Info>Virtual disk information</Info>
            <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="\(capacity)" ovf:capacityAllocationUnits="byte"
              ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
          </DiskSection>
          <NetworkSection><Info>The list of logical networks</Info>
            <Network ovf:name="\(xml(networkName))"><Description>The \(xml(networkName)) network</Description></Network>
          </NetworkSection>
          <VirtualSystem ovf:id="\(xml(name))">
            <Info>A virtual machine</Info>
            <Name>\(xml(name))</Name>
            <OperatingSystemSection ovf:id="96" vmw:osType="\(xml(guestOS))"><Info>The kind of installed guest operating system</Info></OperatingSystemSection>
            <VirtualHardwareSection>
              <Info>Virtual hardware requirements</Info>
              <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID>
                <vssd:VirtualSystemIdentifier>\(xml(name))</vssd:VirtualSystemIdentifier><vssd:VirtualSystemType>vmx-\(Self.hardwareVersion)</vssd:VirtualSystemType></System>
              <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>\(cpus) virtual CPU(s)</rasd:ElementName>
                <rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>\(cpus)</rasd:VirtualQuantity></Item>
              <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>\(memoryMiB)MB of memory</rasd:ElementName>
                <rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>\(memoryMiB)</rasd:VirtualQuantity></Item>
              <Item><rasd:Address>0</rasd:Address><rasd:ElementName>SCSI controller 0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID>
                <rasd:ResourceSubType>\(controllerSubtype)</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
              <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>Hard disk 1</rasd:ElementName>
                <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent>
                <rasd:ResourceType>17</rasd:ResourceType></Item>
              <Item><rasd:AddressOnParent>7</rasd:AddressOnParent><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
                <rasd:Connection>\(xml(networkName))</rasd:Connection><rasd:ElementName>Network adapter 1</rasd:ElementName>
                <rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>\(nicSubtype)</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
              <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="bios"/>
            </VirtualHardwareSection>
          </VirtualSystem>
        </Envelope>

        """
    }

    /// `|XX` escapes for the bytes a .vmx value cannot hold as they are (VMXFile unescapes them).
    static func escape(_ value: String) -> String {
        var bytes: [UInt8] = []
        for byte in value.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "|") || byte < 0x20 {
                bytes.append(contentsOf: Array(String(format: "|%02X", byte).utf8))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
