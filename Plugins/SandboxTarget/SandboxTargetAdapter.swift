import FerryKit
import Foundation

/// The embedded default target: a local cloud whose state lives in the workspace and whose
/// instances boot under QEMU. The workspace is opened on first use, so that listing adapters
/// works without one.
public struct SandboxTargetAdapter: Adapter {
    public let workspaceRoot: URL

    public init(workspaceRoot: URL) {
        self.workspaceRoot = workspaceRoot
    }

    public let descriptor = AdapterDescriptor(
        name: "sandbox",
        kind: .target,
        version: "0.1.0",
        summary: "A local cloud in the workspace: networks, identity, volumes, images; instances boot under QEMU",
        capabilities: [.networking, .identity, .volumeImport, .images, .compute, .instanceDisks],
        options: [],
        availability: .available
    )

    /// The sandbox of the workspace; throws "create one with `ferry init`" when there is none.
    public func cloud() throws -> SandboxCloud {
        try SandboxCloud(workspace: Workspace.open(at: workspaceRoot))
    }
}
