import FerryCore

// Small adapters that exist only to exercise the registry (and the engine's checks of
// adapters, in FerryKitTests): each conforms to exactly the
// protocols its descriptor declares, or deliberately does not.

public struct StubSource: SourceAdapter {
    public var descriptor: AdapterDescriptor

    public init(name: String, availability: AdapterAvailability = .available, capabilities: [Capability] = [.discovery, .blockRead]) {
        descriptor = AdapterDescriptor(
            name: name, kind: .source, version: "1.0.0", summary: "test source",
            capabilities: capabilities,
            options: [AdapterOption(name: "disk", type: .path, isRequired: true, help: "a disk"),
                      AdapterOption(name: "retries", type: .integer, defaultValue: "3", help: "how often")],
            availability: availability
        )
    }

    public func discoverMachines(configuration: AdapterConfiguration) async throws -> [MachineFacts] { [] }

    public func openDisk(_ disk: DiskFacts, configuration: AdapterConfiguration) throws -> any BlockReader {
        MemoryBlockReader(bytes: [])
    }
}

/// A target that only does networking, and declares only that.
public struct NetworkOnlyTarget: NetworkingCapability {
    public var descriptor = AdapterDescriptor(name: "net-only", kind: .target, version: "1.0.0", summary: "networks only", capabilities: [.networking])

    public init() {}

    public func createVPC(cidrBlock: String, tags: ResourceTags) async throws -> VPC { VPC(id: "vpc-1", cidrBlock: cidrBlock, tags: tags) }
    public func createSubnet(vpcID: String, cidrBlock: String, availabilityZone: String?, tags: ResourceTags) async throws -> Subnet {
        Subnet(id: "subnet-1", vpcID: vpcID, cidrBlock: cidrBlock)
    }
    public func createInternetGateway(attachingTo vpcID: String, tags: ResourceTags) async throws -> InternetGateway { InternetGateway(id: "igw-1", attachedVPCID: vpcID) }
    public func createRouteTable(vpcID: String, tags: ResourceTags) async throws -> RouteTable { RouteTable(id: "rtb-1", vpcID: vpcID) }
    public func createRoute(routeTableID: String, destinationCIDR: String, gatewayID: String) async throws {}
    public func associateRouteTable(routeTableID: String, subnetID: String) async throws {}
    public func createSecurityGroup(vpcID: String, name: String, description: String, tags: ResourceTags) async throws -> SecurityGroup {
        SecurityGroup(id: "sg-1", vpcID: vpcID, name: name, description: description)
    }
    public func authorizeIngress(securityGroupID: String, rules: [IngressRule]) async throws {}
    public func replaceEgress(securityGroupID: String, rules: [EgressRule]) async throws {}
    public func describeNetworks() async throws -> NetworkInventory { NetworkInventory() }
    public func deleteNetworkResource(_ resource: CloudResource) async throws {}
}

/// Declares compute without implementing it: registration must refuse it.
public struct LyingTarget: Adapter {
    public var descriptor = AdapterDescriptor(name: "liar", kind: .target, version: "1.0.0", summary: "claims compute", capabilities: [.compute])

    public init() {}
}

/// A disk held in memory.
public struct MemoryBlockReader: BlockReader {
    public let bytes: [UInt8]
    public var size: UInt64 { UInt64(bytes.count) }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: "memory")
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[Int(offset)..<Int(offset) + buffer.count]))
        }
    }

    public func allocatedRanges() throws -> [ByteRange] { [ByteRange(offset: 0, length: size)] }
}
