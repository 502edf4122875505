import FerryCore
import Foundation

extension SandboxCloud {
    /// An instance's disk: the qcow2 overlay its QEMU process writes, over its image.
    public func instanceDisks(instanceID: String) throws -> [DiskFacts] {
        let record = try refreshed(instanceID)
        guard record.instanceState != .terminated else {
            throw SandboxError.invalidState(instanceID: instanceID, state: record.instanceState, action: "read the disk of")
        }
        let path = instanceDirectory(instanceID).appendingPathComponent("disk.qcow2").path
        guard let disk = try diskImages.openImage(at: path) else {
            throw SandboxError.unreadableInstanceDisk(instanceID: instanceID, path: path)
        }
        let size = disk.reader.size
        let bus = (try? imageRecord(record.imageID).hardware.diskBus) ?? .virtio
        let name = switch bus {
        case .virtio: "/dev/vda"
        case .pvscsi: "/dev/sda"
        case .nvme: "/dev/nvme0n1"
        }
        return [DiskFacts(name: name, sizeBytes: size, locator: path, model: "\(bus.rawValue) disk of \(instanceID)", isBoot: true)]
    }
}

extension SandboxTargetAdapter: InstanceDiskCapability {
    public func instanceDisks(instanceID: String) async throws -> [DiskFacts] {
        try await onCloud { try $0.instanceDisks(instanceID: instanceID) }
    }
}
