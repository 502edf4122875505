/// A capability an adapter can declare. Each one is a protocol an adapter conforms to;
/// the registry checks that a declaration and the conformance agree.
public enum Capability: String, Codable, Hashable, Sendable, CaseIterable, Comparable {
    /// Lists machines with their facts and disks (`SourceAdapter`).
    case discovery
    /// Opens a disk as a random-access `BlockReader` (`SourceAdapter`).
    case blockRead = "block-read"
    /// Tells cheaply when a disk may have changed (`ChangeTrackingSource`).
    case changeTracking = "change-tracking"
    /// VPCs, subnets, gateways, routes, security groups (`NetworkingCapability`).
    case networking
    /// Users, access keys, policies (`IdentityCapability`).
    case identity
    /// Receives a snapshot as a volume, incrementally when a parent is given (`VolumeImportCapability`).
    case volumeImport = "volume-import"
    /// Registers machine images from imported volumes (`ImageCapability`).
    case images
    /// Launches, describes, stops and terminates instances (`ComputeCapability`).
    case compute
    /// Tells where an instance's disks are on this machine, for an agent (`InstanceDiskCapability`).
    case instanceDisks = "instance-disks"
    /// Converts imported volumes on a converter instance of its own (`MachineConversionCapability`).
    case machineConversion = "machine-conversion"
    /// Places a process of this machine at an address of a subnet, behind security groups,
    /// where instances reach it (`ServiceEndpointCapability`).
    case serviceEndpoints = "service-endpoints"
    /// Runs a command inside an instance, as AWS Systems Manager's Run Command does
    /// (`InstanceCommandCapability`).
    case runCommand = "run-command"

    public var kind: AdapterKind {
        switch self {
        case .discovery, .blockRead, .changeTracking: return .source
        case .networking, .identity, .volumeImport, .images, .compute, .instanceDisks, .machineConversion, .serviceEndpoints, .runCommand: return .target
        }
    }

    /// The Swift protocol an adapter conforms to for this capability.
    public var protocolName: String {
        switch self {
        case .discovery, .blockRead: return "SourceAdapter"
        case .changeTracking: return "ChangeTrackingSource"
        case .networking: return "NetworkingCapability"
        case .identity: return "IdentityCapability"
        case .volumeImport: return "VolumeImportCapability"
        case .images: return "ImageCapability"
        case .compute: return "ComputeCapability"
        case .instanceDisks: return "InstanceDiskCapability"
        case .machineConversion: return "MachineConversionCapability"
        case .serviceEndpoints: return "ServiceEndpointCapability"
        case .runCommand: return "InstanceCommandCapability"
        }
    }

    /// Capabilities the plugin protocol does not carry: they reach into this machine (its
    /// processes, its QEMU guests), which an adapter in another process does not have.
    public var isBuiltInOnly: Bool { [.machineConversion, .serviceEndpoints, .runCommand].contains(self) }

    public static func < (lhs: Capability, rhs: Capability) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
