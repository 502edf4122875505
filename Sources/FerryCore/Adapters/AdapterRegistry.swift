/// The adapters Ferry knows, by name, kind and capability. It knows no adapter by name
/// itself: the CLI registers the built-ins, and external adapters are added the same way.
public struct AdapterRegistry: Sendable {
    private var adapters: [String: any Adapter] = [:]
    private var order: [String] = []
    /// The engine that inspects and converts machines' disks on this machine, handed in by
    /// the host (it runs the converter appliance under QEMU); nil where there is none, and
    /// launches then say so instead of converting.
    public var machineConverter: (any MachineConverter)?

    public init() {}

    /// Registers `adapter`, refusing a second adapter of the same name and a descriptor whose
    /// capabilities do not match the protocols the adapter conforms to.
    public mutating func register(_ adapter: any Adapter) throws(AdapterError) {
        let descriptor = adapter.descriptor
        guard adapters[descriptor.name] == nil else { throw .duplicateName(descriptor.name) }
        for capability in descriptor.capabilities {
            guard capability.kind == descriptor.kind else {
                throw .capabilityMismatch(adapter: descriptor.name, capability: capability, reason: "it is a \(capability.kind.rawValue) capability on a \(descriptor.kind.rawValue) adapter")
            }
            guard Self.conforms(adapter, to: capability) else {
                throw .capabilityMismatch(adapter: descriptor.name, capability: capability, reason: "does not implement \(capability.protocolName)")
            }
        }
        adapters[descriptor.name] = adapter
        order.append(descriptor.name)
    }

    /// All adapters in registration order.
    public var all: [any Adapter] { order.compactMap { adapters[$0] } }

    public var descriptors: [AdapterDescriptor] { all.map(\.descriptor) }

    public func adapter(named name: String) throws(AdapterError) -> any Adapter {
        guard let adapter = adapters[name] else { throw .notFound(name: name, known: order) }
        return adapter
    }

    public func adapters(kind: AdapterKind) -> [any Adapter] {
        all.filter { $0.descriptor.kind == kind }
    }

    /// Adapters that declare `capability` (available or not).
    public func adapters(with capability: Capability) -> [any Adapter] {
        all.filter { $0.descriptor.capabilities.contains(capability) }
    }

    public func source(named name: String) throws(AdapterError) -> any SourceAdapter {
        try capability(.discovery, of: name, as: (any SourceAdapter).self)
    }

    public func networking(of name: String) throws(AdapterError) -> any NetworkingCapability {
        try capability(.networking, of: name, as: (any NetworkingCapability).self)
    }

    public func identity(of name: String) throws(AdapterError) -> any IdentityCapability {
        try capability(.identity, of: name, as: (any IdentityCapability).self)
    }

    public func volumeImport(of name: String) throws(AdapterError) -> any VolumeImportCapability {
        try capability(.volumeImport, of: name, as: (any VolumeImportCapability).self)
    }

    public func images(of name: String) throws(AdapterError) -> any ImageCapability {
        try capability(.images, of: name, as: (any ImageCapability).self)
    }

    public func compute(of name: String) throws(AdapterError) -> any ComputeCapability {
        try capability(.compute, of: name, as: (any ComputeCapability).self)
    }

    public func instanceDisks(of name: String) throws(AdapterError) -> any InstanceDiskCapability {
        try capability(.instanceDisks, of: name, as: (any InstanceDiskCapability).self)
    }

    /// The target's own converter, when it has one (`MachineConversionCapability`).
    public func serviceEndpoints(of name: String) -> (any ServiceEndpointCapability)? {
        try? capability(.serviceEndpoints, of: name, as: (any ServiceEndpointCapability).self)
    }

    public func runCommand(of name: String) -> (any InstanceCommandCapability)? {
        try? capability(.runCommand, of: name, as: (any InstanceCommandCapability).self)
    }

    public func machineConversion(of name: String) -> (any MachineConversionCapability)? {
        try? capability(.machineConversion, of: name, as: (any MachineConversionCapability).self)
    }

    /// The adapter `name` as `type`, when it declares `capability` and its work is built;
    /// otherwise an error that says what is missing and which adapters have it.
    public func capability<T>(_ capability: Capability, of name: String, as type: T.Type) throws(AdapterError) -> T {
        let adapter = try self.adapter(named: name)
        let descriptor = adapter.descriptor
        guard descriptor.capabilities.contains(capability), let typed = adapter as? T else {
            throw .missingCapability(
                adapter: name, capability: capability, has: descriptor.capabilities,
                providedBy: adapters(with: capability).map(\.descriptor.name)
            )
        }
        try adapter.requireAvailable()
        return typed
    }

    /// Whether `adapter` implements the protocol behind `capability`.
    public static func conforms(_ adapter: any Adapter, to capability: Capability) -> Bool {
        switch capability {
        case .discovery, .blockRead: return adapter is any SourceAdapter
        case .changeTracking: return adapter is any ChangeTrackingSource
        case .networking: return adapter is any NetworkingCapability
        case .identity: return adapter is any IdentityCapability
        case .volumeImport: return adapter is any VolumeImportCapability
        case .images: return adapter is any ImageCapability
        case .compute: return adapter is any ComputeCapability
        case .instanceDisks: return adapter is any InstanceDiskCapability
        case .machineConversion: return adapter is any MachineConversionCapability
        case .serviceEndpoints: return adapter is any ServiceEndpointCapability
        case .runCommand: return adapter is any InstanceCommandCapability
        }
    }
}
