import FerryCore
import Foundation
import GRDB

/// The sandbox's equivalents of public AMIs: one image per guest profile, each a volume plus
/// an image that says which devices its machine has, built on first use.
extension SandboxCloud {
    public static let baseImageName = GuestProfile.busybox.imageName
    /// The tag that names the profile an image was built from.
    public static let profileTag = "ferry:profile"
    /// The tag that says the guest keeps a static address (`10.0.0.36/24`), like the VM it stands for.
    public static let staticAddressTag = "ferry:static-address"

    /// The profile's image: the newest one registered, or a new one built now.
    public func guestImage(_ profile: GuestProfile, cache: GuestImageCache = GuestImageCache(directory: GuestImageCache.defaultDirectory), log: (String) -> Void = { _ in }) throws -> MachineImage {
        if let existing = try describeImages().last(where: { $0.name == profile.imageName }) { return existing }
        return try buildImage(profile, cache: cache, log: log)
    }

    /// Builds the profile's image and registers it (another one, if one exists).
    ///
    /// The busybox image is built into the workspace in seconds. The Debian profiles take
    /// minutes, so their finished disks are kept in a cache shared by workspaces and copied
    /// in: a workspace owns its volumes, and a cache cleared later breaks nothing here.
    public func buildImage(_ profile: GuestProfile, cache: GuestImageCache = GuestImageCache(directory: GuestImageCache.defaultDirectory), log: (String) -> Void = { _ in }) throws -> MachineImage {
        switch profile {
        case .busybox:
            let disk = directory.appendingPathComponent("base-\(UUID().uuidString).raw").path
            defer { try? FileManager.default.removeItem(atPath: disk) }
            try BaseImageBuilder().build(diskAt: disk, workDirectory: directory.appendingPathComponent("build-\(UUID().uuidString)"), log: log)
            return try registerGuestDisk(disk, profile: profile, move: true)
        case .debianWordPress, .vmwareDebian:
            let disk = try cache.disk(for: profile, log: log)
            log("copying \(profile.rawValue)'s disk into the sandbox")
            return try registerGuestDisk(disk, profile: profile, move: false)
        }
    }

    /// Builds the busybox base image and registers it.
    public func buildBaseImage(log: (String) -> Void = { _ in }) throws -> MachineImage {
        try buildImage(.busybox, log: log)
    }

    /// Registers a disk a builder made as the base image (the busybox profile's).
    public func registerBaseImage(disk: String) throws -> MachineImage {
        try registerGuestDisk(disk, profile: .busybox, move: true)
    }

    /// Registers `disk` as the profile's image: moved into the sandbox when `move` is set and
    /// it is on the same file system, copied (holes kept) otherwise.
    func registerGuestDisk(_ disk: String, profile: GuestProfile, move: Bool) throws -> MachineImage {
        let id = ResourceID.make(prefix: "vol")
        let fileName = "\(id).raw"
        let destination = volumesDirectory.appendingPathComponent(fileName).path
        if !move || rename(disk, destination) != 0 {
            try SparseFile.copy(from: disk, to: destination)
        }
        let size = try FileRegionReader(path: destination).size
        var tags: ResourceTags = ["Name": profile.imageName, Self.profileTag: profile.rawValue]
        if let network = profile.staticNetwork { tags[Self.staticAddressTag] = "\(network.address)/\(network.prefixLength)" }
        let volume = VolumeRecord(
            id: id, kind: CloudResourceKind.volume.rawValue, name: profile.imageName, sizeBytes: Int64(size),
            fileName: fileName, parentID: nil, tags: tagsText(tags), createdAt: Date()
        )
        do {
            try database.write { db in try volume.insert(db) }
            return try registerImage(name: profile.imageName, rootVolume: volume.model, hardware: profile.hardware, minimumMemoryMiB: profile.minimumMemoryMiB, tags: tags)
        } catch {
            _ = try? database.write { db in try VolumeRecord.deleteOne(db, key: id) }
            try? FileManager.default.removeItem(atPath: destination)
            throw error
        }
    }
}
