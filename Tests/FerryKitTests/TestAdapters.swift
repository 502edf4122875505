import FerryKit

// Small adapters that exist only to exercise the registry: each conforms to exactly the
// protocols its descriptor declares, or deliberately does not.

struct StubSource: SourceAdapter {
    var descriptor: AdapterDescriptor

    init(name: String, availability: AdapterAvailability = .available, capabilities: [Capability] = [.discovery, .blockRead]) {
        descriptor = AdapterDescriptor(
            name: name, kind: .source, version: "1.0.0", summary: "test source",
            capabilities: capabilities,
            options: [AdapterOption(name: "disk", type: .path, isRequired: true, help: "a disk"),
                      AdapterOption(name: "retries", type: .integer, defaultValue: "3", help: "how often")],
            availability: availability
        )
    }

    func discoverMachines(configuration: AdapterConfiguration) async throws -> [MachineFacts] { [] }

    func openDisk(_ disk: DiskFacts, configuration: AdapterConfiguration) throws -> any BlockReader {
        MemoryBlockReader(bytes: [])
    }
}

/// A target that only does networking, and declares only that.
struct NetworkOnlyTarget: NetworkingCapability {
    var descriptor = AdapterDescriptor(name: "net-only", kind: .target, version: "1.0.0", summary: "networks only", capabilities: [.networking])

    func createVPC(cidrBlock: String, tags: ResourceTags) async throws -> VPC { VPC(id: "vpc-1", cidrBlock: cidrBlock, tags: tags) }
    func createSubnet(vpcID: String, cidrBlock: String, availabilityZone: String?, tags: ResourceTags) async throws -> Subnet {
        Subnet(id: "subnet-1", vpcID: vpcID, cidrBlock: cidrBlock)
    }
    func createInternetGateway(attachingTo vpcID: String, tags: ResourceTags) async throws -> InternetGateway { InternetGateway(id: "igw-1", attachedVPCID: vpcID) }
    func createRouteTable(vpcID: String, tags: ResourceTags) async throws -> RouteTable { RouteTable(id: "rtb-1", vpcID: vpcID) }
    func createRoute(routeTableID: String, destinationCIDR: String, gatewayID: String) async throws {}
    func associateRouteTable(routeTableID: String, subnetID: String) async throws {}
    func createSecurityGroup(vpcID: String, name: String, description: String, tags: ResourceTags) async throws -> SecurityGroup {
        SecurityGroup(id: "sg-1", vpcID: vpcID, name: name, description: description)
    }
    func authorizeIngress(securityGroupID: String, rules: [IngressRule]) async throws {}
    func describeNetworks() async throws -> NetworkInventory { NetworkInventory() }
    func deleteNetworkResource(_ resource: CloudResource) async throws {}
}

/// Declares compute without implementing it: registration must refuse it.
struct LyingTarget: Adapter {
    var descriptor = AdapterDescriptor(name: "liar", kind: .target, version: "1.0.0", summary: "claims compute", capabilities: [.compute])
}

/// A disk held in memory.
struct MemoryBlockReader: BlockReader {
    let bytes: [UInt8]
    var size: UInt64 { UInt64(bytes.count) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: "memory")
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[Int(offset)..<Int(offset) + buffer.count]))
        }
    }

    func allocatedRanges() throws -> [ByteRange] { [ByteRange(offset: 0, length: size)] }
}
