import AWSTarget
import FerryCore
import FerryKit
import PhysicalSource
import SandboxTarget
import VMwareSource
import Foundation

/// The one place that names the built-in adapters.
enum BuiltInAdapters {
    /// - Parameter workspaceRoot: the workspace adapters that keep state use; it need not
    ///   exist yet (listing adapters works without one).
    static func registry(workspaceRoot: URL) throws -> AdapterRegistry {
        var registry = AdapterRegistry()
        // The engine's image readers and the workspace's folders are handed in here, so that
        // the adapters depend on FerryCore alone.
        try registry.register(physical())
        try registry.register(VMwareSourceAdapter())
        try registry.register(AWSTargetAdapter())
        try registry.register(sandbox(workspaceRoot: workspaceRoot))
        // Inspects every launch's disk, and converts the disks of targets without a converter
        // instance of their own before they are uploaded.
        registry.machineConverter = ConverterAppliance()
        return registry
    }

    /// The adapter that reads this machine's own disks and raw or qcow2 images: the agent's.
    static func physical() -> PhysicalSourceAdapter {
        PhysicalSourceAdapter(diskImages: DiskImageReaders())
    }

    /// The sandbox of the workspace at `workspaceRoot`, for the `ferry sandbox` commands and
    /// the workshop, which use it directly.
    static func sandbox(workspaceRoot: URL) -> SandboxTargetAdapter {
        SandboxTargetAdapter(workspace: WorkspaceFolder(root: workspaceRoot), diskImages: DiskImageReaders())
    }
}
