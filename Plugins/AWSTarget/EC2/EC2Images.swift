import FerryCore

// ImageCapability over EC2: an image is registered from imported snapshots with block
// device mappings (the root first), hardware virtualisation, ENA and the boot mode.
extension AWSTargetAdapter: ImageCapability {
    /// Nitro instances: the root volume is an NVMe device, the NIC an ENA.
    public var bootPlatform: TargetPlatform? { .aws }

    public func registerImage(name: String, rootVolume: ImportedVolume, additionalVolumes: [ImportedVolume], bootMode: BootMode, tags: ResourceTags) async throws -> MachineImage {
        let ec2 = try connection().ec2
        var snapshots: [String] = []
        for volume in [rootVolume] + additionalVolumes {
            snapshots.append(try await snapshotID(of: volume))
        }
        var p = QueryParameters([
            ("Name", name), ("Description", "Imported by Ferry"), ("Architecture", "x86_64"),
            ("VirtualizationType", "hvm"), ("EnaSupport", "true"), ("RootDeviceName", Self.deviceNames[0]),
            ("BootMode", bootMode == .uefi ? "uefi" : "legacy-bios"),
        ])
        for (n, snapshot) in snapshots.enumerated() {
            p.set("BlockDeviceMapping.\(n + 1).DeviceName", Self.deviceNames[min(n, Self.deviceNames.count - 1)])
            p.set("BlockDeviceMapping.\(n + 1).Ebs.SnapshotId", snapshot)
            p.set("BlockDeviceMapping.\(n + 1).Ebs.DeleteOnTermination", "true")
            p.set("BlockDeviceMapping.\(n + 1).Ebs.VolumeType", "gp3")
        }
        p.tagSpecification("image", tags)
        let id = try ec2.required(try await ec2.call(.registerImage, p), "imageId", .registerImage)
        return MachineImage(id: id, name: name, bootMode: bootMode, volumeIDs: snapshots, tags: tags)
    }

    public func describeImages() async throws -> [MachineImage] {
        try await connection().ec2.describe(.describeImages, QueryParameters([("Owner.1", "self")]), list: "imagesSet").map(EC2Mapping.image)
    }

    public func deregisterImage(id: String) async throws {
        _ = try await connection().ec2.call(.deregisterImage, QueryParameters([("ImageId", id)]))
    }

    static let deviceNames = ["/dev/xvda", "/dev/xvdb", "/dev/xvdc", "/dev/xvdd", "/dev/xvde", "/dev/xvdf", "/dev/xvdg", "/dev/xvdh"]

    /// The snapshot behind an imported volume; a volume is snapshotted first.
    private func snapshotID(of volume: ImportedVolume) async throws -> String {
        switch volume.kind {
        case .snapshot:
            return volume.id
        case .volume:
            let connection = try connection()
            let id = try connection.ec2.required(try await connection.ec2.call(.createSnapshot, QueryParameters([("VolumeId", volume.id), ("Description", "Ferry image root")])), "snapshotId", .createSnapshot)
            try await waiter().wait(for: "snapshot \(id) of \(volume.id) to complete") {
                let item = try await connection.ec2.describe(.describeSnapshots, QueryParameters([("SnapshotId.1", id)]), list: "snapshotSet").first
                return item?.string("status") == "completed"
            }
            return id
        default:
            throw AWSTargetError.notAnImportedVolume(volume.id)
        }
    }

    func waiter() throws -> StateWaiter {
        let tuning = try connection().tuning
        return StateWaiter(interval: tuning.pollInterval, timeout: tuning.waitTimeout)
    }
}
