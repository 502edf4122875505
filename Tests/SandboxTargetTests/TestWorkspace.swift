import FerryCore
import FerryKit
import Foundation
import SandboxTarget
#if canImport(Glibc)
import Glibc
#endif

/// A fresh workspace in a temporary folder, removed (with every sandbox process) at the end.
final class TestWorkspace {
    let root: URL
    let adapter: SandboxTargetAdapter
    let cloud: SandboxCloud

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-sandbox-test-\(UUID().uuidString)", isDirectory: true)
        _ = try Workspace.create(at: root, ferryVersion: FerryVersion.current)
        adapter = SandboxTargetAdapter(workspace: WorkspaceFolder(root: root), diskImages: DiskImageReaders())
        cloud = try adapter.cloud()
    }

    deinit {
        _ = try? cloud.destroy()
        try? FileManager.default.removeItem(at: root)
    }
}

/// The base image disk, built once per test run and copied into each workspace that needs it.
enum BaseImageCache {
    private static let built: Result<String, any Error> = {
        removeStaleCaches()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-sandbox-base-\(getpid())", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let disk = folder.appendingPathComponent("base.raw").path
            try BaseImageBuilder().build(diskAt: disk, workDirectory: folder.appendingPathComponent("work"))
            return .success(disk)
        } catch {
            return .failure(error)
        }
    }()

    static func disk() throws -> String { try built.get() }

    /// Caches of earlier runs whose process has ended.
    private static func removeStaleCaches() {
        let temporary = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix("ferry-sandbox-base-") {
            guard let pid = Int32(name.dropFirst("ferry-sandbox-base-".count)), kill(pid, 0) != 0 else { continue }
            try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
        }
    }

    /// Registers a copy of the cached disk as the base image of `cloud`.
    static func register(in cloud: SandboxCloud) throws -> MachineImage {
        let copy = cloud.directory.appendingPathComponent("base-copy.raw").path
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: try disk(), toPath: copy)
        return try cloud.registerBaseImage(disk: copy)
    }
}
