import FerryKit
import Foundation
import SandboxTarget

/// A fresh workspace in a temporary folder, removed (with every sandbox process) at the end.
final class TestWorkspace {
    let root: URL
    let adapter: SandboxTargetAdapter
    let cloud: SandboxCloud

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-sandbox-test-\(UUID().uuidString)", isDirectory: true)
        _ = try Workspace.create(at: root, ferryVersion: FerryVersion.current)
        adapter = SandboxTargetAdapter(workspaceRoot: root)
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

    /// Registers a copy of the cached disk as the base image of `cloud`.
    static func register(in cloud: SandboxCloud) throws -> MachineImage {
        let copy = cloud.directory.appendingPathComponent("base-copy.raw").path
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: try disk(), toPath: copy)
        return try cloud.registerBaseImage(disk: copy)
    }
}
