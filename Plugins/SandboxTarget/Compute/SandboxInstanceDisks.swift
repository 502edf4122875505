import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

extension SandboxCloud {
    /// The QMP socket of the instance's QEMU process; nil for an instance that is not running
    /// or was started before instances had one.
    public func hypervisorMonitor(instanceID: String) throws -> String? {
        let record = try refreshed(instanceID)
        guard record.instanceState == .running || record.instanceState == .pending else { return nil }
        let socket = QEMUProcess.monitorSocket(instanceFolder: instanceDirectory(instanceID))
        var info = stat()
        guard stat(socket, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return nil }
        return socket
    }
}

extension SandboxTargetAdapter: InstanceDiskCapability {
    public func instanceDisks(instanceID: String) async throws -> [DiskFacts] {
        try await onCloud { try $0.instanceDisks(instanceID: instanceID) }
    }

    public func hypervisorMonitor(instanceID: String) async throws -> String? {
        try await onCloud { try $0.hypervisorMonitor(instanceID: instanceID) }
    }
}
