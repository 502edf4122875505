import FerryKit
import Foundation

extension SandboxCloud {
    /// An instance's disk: the qcow2 overlay its QEMU process writes, over its image.
    public func instanceDisks(instanceID: String) throws -> [DiskFacts] {
        let record = try refreshed(instanceID)
        guard record.instanceState != .terminated else {
            throw SandboxError.invalidState(instanceID: instanceID, state: record.instanceState, action: "read the disk of")
        }
        let path = instanceDirectory(instanceID).appendingPathComponent("disk.qcow2").path
        let size = try QCOW2Reader(path: path).size
        return [DiskFacts(name: "/dev/vda", sizeBytes: size, locator: path, model: "virtio disk of \(instanceID)", isBoot: true)]
    }
}

extension SandboxTargetAdapter: InstanceDiskCapability {
    public func instanceDisks(instanceID: String) async throws -> [DiskFacts] {
        try cloud().instanceDisks(instanceID: instanceID)
    }
}
