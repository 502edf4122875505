import FerryCore
import Foundation
import GRDB

/// The sandbox's equivalent of a public AMI: the base Linux image, built from the host's
/// Debian packages and registered as a volume plus an image.
extension SandboxCloud {
    public static let baseImageName = "ferry-sandbox-linux"

    /// Builds the base image and registers it.
    public func buildBaseImage(log: (String) -> Void = { _ in }) throws -> MachineImage {
        let disk = directory.appendingPathComponent("base-\(UUID().uuidString).raw").path
        defer { try? FileManager.default.removeItem(atPath: disk) }
        try BaseImageBuilder().build(diskAt: disk, workDirectory: directory.appendingPathComponent("build-\(UUID().uuidString)"), log: log)
        return try registerBaseImage(disk: disk)
    }

    /// Registers a disk that `BaseImageBuilder` built as the base image; the file is moved
    /// into the sandbox when it is on the same file system, copied otherwise.
    public func registerBaseImage(disk: String) throws -> MachineImage {
        let id = ResourceID.make(prefix: "vol")
        let fileName = "\(id).raw"
        let destination = volumesDirectory.appendingPathComponent(fileName).path
        if rename(disk, destination) != 0 {
            try SparseFile.copy(from: disk, to: destination)
        }
        let size = try FileRegionReader(path: destination).size
        let volume = VolumeRecord(
            id: id, kind: CloudResourceKind.volume.rawValue, name: Self.baseImageName, sizeBytes: Int64(size),
            fileName: fileName, parentID: nil, tags: tagsText(["Name": Self.baseImageName]), createdAt: Date()
        )
        do {
            try database.write { db in try volume.insert(db) }
            return try registerImage(name: Self.baseImageName, rootVolume: volume.model, tags: ["Name": Self.baseImageName])
        } catch {
            _ = try? database.write { db in try VolumeRecord.deleteOne(db, key: id) }
            try? FileManager.default.removeItem(atPath: destination)
            throw error
        }
    }
}
