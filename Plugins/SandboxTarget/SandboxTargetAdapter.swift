import FerryKit

/// The embedded default target: a local cloud whose instances boot under QEMU.
public struct SandboxTargetAdapter: Adapter {
    public init() {}

    public let descriptor = AdapterDescriptor(
        name: "sandbox",
        kind: .target,
        version: "0.1.0",
        summary: "A local cloud in the workspace: networks, identity, volumes, images; instances boot under QEMU",
        capabilities: [],
        options: [],
        availability: .unavailable(reason: "the sandbox cloud is not built yet (issue 5)")
    )
}
