import FerryCore

/// VMware virtual machines from their files: .vmx, .vmdk and .ovf/.ova.
public struct VMwareSourceAdapter: SourceAdapter {
    public init() {}

    public let descriptor = AdapterDescriptor(
        name: "vmware",
        kind: .source,
        version: "0.2.0",
        summary: "VMware virtual machines from .vmx, .vmdk (flat, sparse, streamOptimized, snapshot chains) and .ovf/.ova files",
        capabilities: [.discovery, .blockRead],
        options: [
            AdapterOption(name: "path", type: .path, isRequired: true, help: "a .vmx, .vmdk, .ovf or .ova file"),
        ]
    )

    public func discoverMachines(configuration: AdapterConfiguration) async throws -> [MachineFacts] {
        guard let path = configuration["path"] else {
            throw AdapterError.missingOption(adapter: descriptor.name, option: "path", help: "a .vmx, .vmdk, .ovf or .ova file")
        }
        return try VMwareMachine.discover(path: path)
    }

    public func openDisk(_ disk: DiskFacts, configuration: AdapterConfiguration) throws -> any BlockReader {
        try VMwareMachine.openDisk(locator: disk.locator)
    }
}
