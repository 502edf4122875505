import FerryCore
import Foundation
import Synchronization

/// The embedded default target: a local cloud whose state lives in the workspace and whose
/// instances boot under QEMU. The sandbox is opened on first use, so that listing adapters
/// works without a workspace, and then kept: every call of one adapter shares one database.
public struct SandboxTargetAdapter: Adapter {
    public let workspace: any AdapterWorkspace
    /// The Machine Converter's appliance, booted by converter instances.
    public let converter: ConverterAppliance
    private let opened: OpenedSandbox

    /// - Parameters:
    ///   - workspace: where the sandbox keeps its database and files (its own folder).
    ///   - diskImages: reads the qcow2 disks of instances (the engine's reader).
    ///   - converter: the appliance its converter instances boot.
    public init(workspace: any AdapterWorkspace, diskImages: any DiskImageReading, converter: ConverterAppliance = ConverterAppliance()) {
        self.workspace = workspace
        self.converter = converter
        self.opened = OpenedSandbox(workspace: workspace, diskImages: diskImages)
    }

    public let descriptor = AdapterDescriptor(
        name: "sandbox",
        kind: .target,
        version: "0.1.0",
        summary: "A local cloud in the workspace: networks, identity, volumes, images; instances boot under QEMU",
        capabilities: [.networking, .identity, .volumeImport, .images, .compute, .instanceDisks, .machineConversion, .serviceEndpoints, .runCommand],
        options: [],
        availability: .available
    )

    /// The sandbox of the workspace, opened on the first call; throws "create one with
    /// `ferry init`" when there is no workspace.
    public func cloud() throws -> SandboxCloud {
        try opened.cloud()
    }

    /// Runs `body` on the sandbox on a thread of its own. Every capability call ends in
    /// SQLite writes, child processes (qemu-img, mke2fs, QEMU) or waits for a guest, none of
    /// which may hold one of the cooperative pool's few threads.
    func onCloud<Result: Sendable>(_ body: @escaping @Sendable (SandboxCloud) throws -> Result) async throws -> Result {
        try await BlockingWork.run { try body(try cloud()) }
    }
}

/// The sandbox an adapter opened, shared by its copies (the adapter is a value, passed around
/// in registries): opened once, on first use, and not at all when there is no workspace yet.
private final class OpenedSandbox: Sendable {
    private let workspace: any AdapterWorkspace
    private let diskImages: any DiskImageReading
    private let opened = Mutex<SandboxCloud?>(nil)

    init(workspace: any AdapterWorkspace, diskImages: any DiskImageReading) {
        self.workspace = workspace
        self.diskImages = diskImages
    }

    func cloud() throws -> SandboxCloud {
        try opened.withLock { opened in
            if let opened { return opened }
            // A failure is not kept: a workspace created later (`ferry init`) is then found.
            let cloud = try SandboxCloud(directory: workspace.directory(forAdapter: "sandbox"), diskImages: diskImages)
            opened = cloud
            return cloud
        }
    }
}
