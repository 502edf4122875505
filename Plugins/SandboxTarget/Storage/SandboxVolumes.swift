import FerryCore
import Foundation
import GRDB

/// Volumes and snapshots are sparse raw files under `sandbox/volumes`; an image is a list of
/// volumes, the first one its root disk.
extension SandboxCloud {
    static let importChunk = 1 << 20

    public func importVolume(_ request: VolumeImportRequest, progress: (@Sendable (TransferProgress) -> Void)? = nil) throws -> ImportedVolume {
        let id = ResourceID.make(prefix: "vol")
        let fileName = "\(id).raw"
        let path = volumesDirectory.appendingPathComponent(fileName).path
        var parentPath: String?
        if let parent = request.parent {
            parentPath = try volumePath(parent.id)
        }
        do {
            let file: SparseFile
            if let parentPath {
                try SparseFile.copy(from: parentPath, to: path)
                file = try SparseFile(path: path, create: false)
            } else {
                file = try SparseFile(path: path, create: true)
            }
            try file.setSize(request.source.size)
            let ranges = ByteRange.coalesce(try request.parent == nil || request.changedRanges == nil
                ? request.source.allocatedRanges() : request.changedRanges!)
            let total = ranges.reduce(UInt64(0)) { $0 + $1.length }
            var done: UInt64 = 0, sent: UInt64 = 0
            var buffer = [UInt8](repeating: 0, count: Self.importChunk)
            for range in ranges {
                guard range.end <= request.source.size else {
                    throw SandboxError.volumeImport(volume: id, reason: "changed range \(range) lies past the end of the source (\(request.source.size) bytes)")
                }
                var offset = range.offset
                while offset < range.end {
                    let count = Int(min(UInt64(buffer.count), range.end - offset))
                    try buffer.withUnsafeMutableBytes { try request.source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]), at: offset) }
                    let isZero = buffer[0..<count].allSatisfy { $0 == 0 }
                    if isZero {
                        // A zero chunk stays a hole in a new volume, and becomes one over a parent's data.
                        if parentPath != nil { try file.zero(offset: offset, length: UInt64(count)) }
                    } else {
                        try buffer.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<count]), at: offset) }
                        sent += UInt64(count)
                    }
                    offset += UInt64(count)
                    done += UInt64(count)
                    progress?(TransferProgress(bytesDone: done, bytesTotal: total, bytesSent: sent))
                }
            }
            file.sync()
            let record = VolumeRecord(
                id: id, kind: CloudResourceKind.volume.rawValue, name: request.name, sizeBytes: Int64(request.source.size),
                fileName: fileName, parentID: request.parent?.id, tags: tagsText(request.tags), createdAt: Date()
            )
            try database.write { db in try record.insert(db) }
            return record.model
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    /// A point-in-time copy of a volume, as `snap-…`.
    public func createSnapshot(volumeID: String, tags: ResourceTags = [:]) throws -> ImportedVolume {
        let source = try volumeRecord(volumeID)
        let id = ResourceID.make(prefix: "snap")
        let fileName = "\(id).raw"
        let path = volumesDirectory.appendingPathComponent(fileName).path
        do {
            try SparseFile.copy(from: volumesDirectory.appendingPathComponent(source.fileName).path, to: path)
            let record = VolumeRecord(
                id: id, kind: CloudResourceKind.snapshot.rawValue, name: source.name, sizeBytes: source.sizeBytes,
                fileName: fileName, parentID: source.id, tags: tagsText(tags), createdAt: Date()
            )
            try database.write { db in try record.insert(db) }
            return record.model
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    public func describeVolumes() throws -> [ImportedVolume] {
        try database.read { db in try VolumeRecord.order(Column("createdAt")).fetchAll(db).map(\.model) }
    }

    /// Deletes a volume or snapshot that no image uses.
    public func deleteVolume(id: String) throws {
        let record = try volumeRecord(id)
        try database.write { db in
            let images = try ImageRecord.fetchAll(db).filter { $0.volumeIDList.contains(id) }.map { "image \($0.id)" }
            guard images.isEmpty else {
                throw SandboxError.dependencyViolation(resource: "\(record.kind) \(id)", usedBy: images)
            }
            _ = try VolumeRecord.deleteOne(db, key: id)
        }
        try? FileManager.default.removeItem(at: volumesDirectory.appendingPathComponent(record.fileName))
    }

    /// The file of a volume or snapshot.
    public func volumePath(_ id: String) throws -> String {
        volumesDirectory.appendingPathComponent(try volumeRecord(id).fileName).path
    }

    func volumeRecord(_ id: String) throws -> VolumeRecord {
        let record = try database.read { db in try VolumeRecord.fetchOne(db, key: id) }
        guard let record else {
            throw SandboxError.notFound(kind: id.hasPrefix("snap-") ? .snapshot : .volume, id: id)
        }
        return record
    }

    // MARK: Images

    /// Registers an image. `hardware` is what its instances' machines have: the sandbox's own
    /// devices unless the image was built for others (a guest profile shaped like a VMware VM).
    /// An image registered from a migrated disk gets the sandbox's devices, as on a cloud.
    public func registerImage(name: String, rootVolume: ImportedVolume, additionalVolumes: [ImportedVolume] = [], bootMode: BootMode = .legacyBIOS, hardware: GuestHardware = .sandbox, minimumMemoryMiB: Int = 0, tags: ResourceTags = [:]) throws -> MachineImage {
        guard !name.isEmpty else { throw SandboxError.invalidName(field: "image name", value: name, reason: "must not be empty") }
        guard bootMode == .legacyBIOS else {
            throw SandboxError.invalidName(field: "boot mode", value: bootMode.rawValue, reason: "the sandbox boots images with a BIOS bootloader only (LEGACY_BIOS)")
        }
        let volumes = [rootVolume] + additionalVolumes
        for volume in volumes { _ = try volumeRecord(volume.id) }
        let record = ImageRecord(
            id: ResourceID.make(prefix: "ami"), name: name, bootMode: bootMode.rawValue,
            volumeIDs: JSONText.encode(volumes.map(\.id)), tags: tagsText(tags), createdAt: Date(),
            diskBus: hardware.diskBus.rawValue, nicModel: hardware.nicModel.rawValue, minimumMemoryMiB: minimumMemoryMiB
        )
        try database.write { db in try record.insert(db) }
        return record.model
    }

    public func describeImages() throws -> [MachineImage] {
        try database.read { db in try ImageRecord.order(Column("createdAt")).fetchAll(db).map(\.model) }
    }

    /// What the sandbox knows of an image beyond a cloud's answer: the devices its machine
    /// has, the memory it needs, and the file of its root volume.
    public func imageDetails(id: String) throws -> SandboxImageDetails {
        let record = try imageRecord(id)
        guard let root = record.volumeIDList.first else {
            throw SandboxError.invalidName(field: "image", value: id, reason: "has no root volume")
        }
        return SandboxImageDetails(image: record.model, hardware: record.hardware, minimumMemoryMiB: record.minimumMemoryMiB, rootVolumePath: try volumePath(root))
    }

    func imageRecord(_ id: String) throws -> ImageRecord {
        let record = try database.read { db in try ImageRecord.fetchOne(db, key: id) }
        guard let record else { throw SandboxError.notFound(kind: .image, id: id) }
        return record
    }

    /// Deregisters an image that no live instance boots from (their disks are overlays on it).
    public func deregisterImage(id: String) throws {
        try database.write { db in
            guard try ImageRecord.fetchOne(db, key: id) != nil else { throw SandboxError.notFound(kind: .image, id: id) }
            let users = try InstanceRecord.filter(Column("imageID") == id && Column("state") != InstanceState.terminated.rawValue)
                .fetchAll(db).map { "instance \($0.id)" }
            guard users.isEmpty else { throw SandboxError.dependencyViolation(resource: "image \(id)", usedBy: users) }
            _ = try ImageRecord.deleteOne(db, key: id)
        }
    }
}

extension SandboxTargetAdapter: VolumeImportCapability, ImageCapability {
    public var supportsIncrementalImport: Bool { true }
    /// Registered images of imported volumes boot on virtio (see `registerImage`).
    public var bootPlatform: TargetPlatform? { .sandbox }

    public func importVolume(_ request: VolumeImportRequest, progress: (@Sendable (TransferProgress) -> Void)?) async throws -> ImportedVolume {
        try await onCloud { try $0.importVolume(request, progress: progress) }
    }

    public func deleteImportedVolume(id: String) async throws {
        try await onCloud { try $0.deleteVolume(id: id) }
    }

    public func registerImage(name: String, rootVolume: ImportedVolume, additionalVolumes: [ImportedVolume], bootMode: BootMode, tags: ResourceTags) async throws -> MachineImage {
        try await onCloud { try $0.registerImage(name: name, rootVolume: rootVolume, additionalVolumes: additionalVolumes, bootMode: bootMode, tags: tags) }
    }

    public func describeImages() async throws -> [MachineImage] {
        try await onCloud { try $0.describeImages() }
    }

    public func deregisterImage(id: String) async throws {
        try await onCloud { try $0.deregisterImage(id: id) }
    }
}

public struct SandboxImageDetails: Sendable {
    public var image: MachineImage
    public var hardware: GuestHardware
    public var minimumMemoryMiB: Int
    public var rootVolumePath: String
}
