import FerryKit

/// VMware virtual machines from their files: .vmx, .vmdk and .ovf/.ova.
public struct VMwareSourceAdapter: SourceAdapter {
    public init() {}

    public let descriptor = AdapterDescriptor(
        name: "vmware",
        kind: .source,
        version: "0.1.0",
        summary: "VMware virtual machines from .vmx, .vmdk and .ovf/.ova files",
        capabilities: [.discovery, .blockRead],
        options: [
            AdapterOption(name: "path", type: .path, isRequired: true, help: "a .vmx, .vmdk, .ovf or .ova file"),
        ],
        availability: .unavailable(reason: "VMware parsing is not built yet (issue 4)")
    )

    public func discoverMachines(configuration: AdapterConfiguration) async throws -> [MachineFacts] {
        try requireAvailable()
        return []
    }

    public func openDisk(_ disk: DiskFacts, configuration: AdapterConfiguration) throws -> any BlockReader {
        try requireAvailable()
        throw AdapterError.unavailable(adapter: descriptor.name, reason: "no reader")
    }
}
