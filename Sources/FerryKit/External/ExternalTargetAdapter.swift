import FerryCore
import Foundation

/// A target adapter that lives in a plugin process. It conforms to every target capability
/// protocol so that one type can stand for any plugin; the registry hands it out only for
/// the capabilities the plugin claimed, and a call outside them never reaches the plugin.
public struct ExternalTargetAdapter: NetworkingCapability, IdentityCapability, VolumeImportCapability, ImageCapability, ComputeCapability, InstanceDiskCapability {
    public let plugin: ExternalPlugin

    public init(plugin: ExternalPlugin) {
        self.plugin = plugin
    }

    public var descriptor: AdapterDescriptor { plugin.descriptor }

    /// One call, on a thread of its own: a plugin call writes and reads pipes and may wait
    /// for the plugin up to its deadline, which must not hold a thread of the cooperative pool.
    private func call<P: Encodable & Sendable, R: Decodable & Sendable>(_ capability: Capability, _ method: String, _ params: P, as type: R.Type = R.self) async throws -> R {
        try await BlockingWork.run { try blockingCall(capability, method, params, as: R.self) }
    }

    /// One call in a conversation of its own, or in `connection` when calls belong together
    /// (the steps of one volume import live in one process); it blocks its thread meanwhile.
    private func blockingCall<P: Encodable, R: Decodable>(_ capability: Capability, _ method: String, _ params: P, as type: R.Type = R.self,
                                                   attachment: UnsafeRawBufferPointer? = nil, in connection: PluginConnection? = nil) throws -> R {
        try requireCapability(capability)
        if let connection {
            return try connection.call(method, params, as: R.self, attachment: attachment, timeout: connection.timeouts.targetCall)
        }
        return try plugin.withConnection { try $0.call(method, params, as: R.self, attachment: attachment, timeout: $0.timeouts.targetCall) }
    }

    private struct NoParams: Encodable {}
    private struct ID: Codable { var id: String }

    // MARK: networking

    private struct TaggedCIDR: Encodable { var cidrBlock: String; var tags: ResourceTags }
    private struct SubnetParams: Encodable { var vpcID: String; var cidrBlock: String; var availabilityZone: String?; var tags: ResourceTags }
    private struct VPCTags: Encodable { var vpcID: String; var tags: ResourceTags }
    private struct RouteParams: Encodable { var routeTableID: String; var destinationCIDR: String; var gatewayID: String }
    private struct AssociationParams: Encodable { var routeTableID: String; var subnetID: String }
    private struct GroupParams: Encodable { var vpcID: String; var name: String; var description: String; var tags: ResourceTags }
    private struct IngressParams: Encodable { var securityGroupID: String; var rules: [IngressRule] }
    private struct EgressParams: Encodable { var securityGroupID: String; var rules: [EgressRule] }
    private struct ResourceParams: Encodable { var kind: CloudResourceKind; var id: String }

    public func createVPC(cidrBlock: String, tags: ResourceTags) async throws -> VPC {
        try await call(.networking, "networking.createVPC", TaggedCIDR(cidrBlock: cidrBlock, tags: tags))
    }

    public func createSubnet(vpcID: String, cidrBlock: String, availabilityZone: String?, tags: ResourceTags) async throws -> Subnet {
        try await call(.networking, "networking.createSubnet", SubnetParams(vpcID: vpcID, cidrBlock: cidrBlock, availabilityZone: availabilityZone, tags: tags))
    }

    public func createInternetGateway(attachingTo vpcID: String, tags: ResourceTags) async throws -> InternetGateway {
        try await call(.networking, "networking.createInternetGateway", VPCTags(vpcID: vpcID, tags: tags))
    }

    public func createRouteTable(vpcID: String, tags: ResourceTags) async throws -> RouteTable {
        try await call(.networking, "networking.createRouteTable", VPCTags(vpcID: vpcID, tags: tags))
    }

    public func createRoute(routeTableID: String, destinationCIDR: String, gatewayID: String) async throws {
        _ = try await call(.networking, "networking.createRoute", RouteParams(routeTableID: routeTableID, destinationCIDR: destinationCIDR, gatewayID: gatewayID), as: PluginEmpty.self)
    }

    public func associateRouteTable(routeTableID: String, subnetID: String) async throws {
        _ = try await call(.networking, "networking.associateRouteTable", AssociationParams(routeTableID: routeTableID, subnetID: subnetID), as: PluginEmpty.self)
    }

    public func createSecurityGroup(vpcID: String, name: String, description: String, tags: ResourceTags) async throws -> SecurityGroup {
        try await call(.networking, "networking.createSecurityGroup", GroupParams(vpcID: vpcID, name: name, description: description, tags: tags))
    }

    public func authorizeIngress(securityGroupID: String, rules: [IngressRule]) async throws {
        _ = try await call(.networking, "networking.authorizeIngress", IngressParams(securityGroupID: securityGroupID, rules: rules), as: PluginEmpty.self)
    }

    public func replaceEgress(securityGroupID: String, rules: [EgressRule]) async throws {
        _ = try await call(.networking, "networking.replaceEgress", EgressParams(securityGroupID: securityGroupID, rules: rules), as: PluginEmpty.self)
    }

    public func describeNetworks() async throws -> NetworkInventory {
        try await call(.networking, "networking.describeNetworks", NoParams())
    }

    public func deleteNetworkResource(_ resource: CloudResource) async throws {
        _ = try await call(.networking, "networking.deleteResource", ResourceParams(kind: resource.kind, id: resource.id), as: PluginEmpty.self)
    }

    // MARK: identity

    private struct UserParams: Encodable { var name: String; var tags: ResourceTags }
    private struct PolicyParams: Encodable { var userName: String; var policyName: String; var document: PolicyDocument }
    private struct UserName: Encodable { var userName: String }
    private struct Name: Encodable { var name: String }
    private struct AccessKey: Decodable { var accessKeyID: String; var userName: String; var secret: String }

    public func createUser(name: String, tags: ResourceTags) async throws -> IdentityUser {
        try await call(.identity, "identity.createUser", UserParams(name: name, tags: tags))
    }

    public func putUserPolicy(userName: String, policyName: String, document: PolicyDocument) async throws {
        _ = try await call(.identity, "identity.putUserPolicy", PolicyParams(userName: userName, policyName: policyName, document: document), as: PluginEmpty.self)
    }

    public func createAccessKey(userName: String) async throws -> AccessKeyGrant {
        let key = try await call(.identity, "identity.createAccessKey", UserName(userName: userName), as: AccessKey.self)
        return AccessKeyGrant(accessKeyID: key.accessKeyID, userName: key.userName, secret: Secret(key.secret))
    }

    public func deleteUser(name: String) async throws {
        _ = try await call(.identity, "identity.deleteUser", Name(name: name), as: PluginEmpty.self)
    }

    /// Asked of the plugin each time; a plugin that cannot answer gets an empty policy, which
    /// allows nothing.
    public var workbenchPolicy: PolicyDocument {
        (try? blockingCall(.identity, "identity.workbenchPolicy", NoParams(), as: PolicyDocument.self)) ?? PolicyDocument(statements: [])
    }

    // MARK: volume import

    public var supportsIncrementalImport: Bool { plugin.description.incrementalImport ?? false }

    private struct BeginParams: Encodable { var name: String; var sizeBytes: UInt64; var parent: ImportedVolume?; var tags: ResourceTags }
    private struct Began: Decodable { var importID: String }
    private struct WriteParams: Encodable { var importID: String; var offset: UInt64; var length: Int }
    private struct ImportID: Encodable { var importID: String }

    public func importVolume(_ request: VolumeImportRequest, progress: (@Sendable (TransferProgress) -> Void)?) async throws -> ImportedVolume {
        if request.parent != nil && !supportsIncrementalImport {
            throw PluginError(plugin: descriptor.name, path: plugin.path, method: "volumeImport.begin", reason: .remote(code: PluginErrorCode.unsupported, message: "it does not take incremental imports (describe has no \"incrementalImport\": true)"))
        }
        try requireCapability(.volumeImport)
        // The steps of one import belong to one process. With one process allowed, every
        // step is an ordinary call and lands there anyway, taking turns with other calls
        // instead of holding the process for the whole import.
        // Reads of the source and writes to the plugin, block after block: on a thread of its own.
        let plugin = self.plugin
        if plugin.parallelProcesses == 1 { return try await BlockingWork.run { try importVolume(request, progress: progress, in: nil) } }
        return try await BlockingWork.run { try plugin.withConnection { connection in try importVolume(request, progress: progress, in: connection) } }
    }

    private func requireCapability(_ capability: Capability) throws {
        guard descriptor.capabilities.contains(capability) else {
            throw AdapterError.missingCapability(adapter: descriptor.name, capability: capability, has: descriptor.capabilities, providedBy: [])
        }
    }

    private func importVolume(_ request: VolumeImportRequest, progress: (@Sendable (TransferProgress) -> Void)?, in connection: PluginConnection?) throws -> ImportedVolume {
        let source = request.source
        // Without a process of its own, the import's steps go to the plugin's one process;
        // if that was started again meanwhile, the new one knows nothing of this import.
        let restartsBefore = connection == nil ? plugin.restartCount : nil
        let began = try blockingCall(.volumeImport, "volumeImport.begin", BeginParams(name: request.name, sizeBytes: source.size, parent: request.parent, tags: request.tags), as: Began.self, in: connection)
        do {
            let ranges = request.parent != nil ? ByteRange.coalesce(request.changedRanges ?? [ByteRange(offset: 0, length: source.size)]) : try source.allocatedRanges()
            let total = ranges.reduce(0) { $0 + $1.length }
            var done: UInt64 = 0
            var sent: UInt64 = 0
            var buffer = [UInt8](repeating: 0, count: ExternalBlockReader.maximumReadLength)
            for range in ranges {
                var offset = range.offset
                while offset < range.end {
                    let length = Int(min(UInt64(buffer.count), range.end - offset))
                    try buffer.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<length]), at: offset) }
                    // Without a parent, what is not written reads as zeros; with one, zeros must overwrite it.
                    let skip = request.parent == nil && buffer[0..<length].allSatisfy { $0 == 0 }
                    if !skip {
                        // Held for a long time: stop as soon as the plugin is no longer trusted.
                        try plugin.checkUsable(restartsBefore: restartsBefore)
                        _ = try buffer.withUnsafeBytes {
                            try blockingCall(.volumeImport, "volumeImport.write", WriteParams(importID: began.importID, offset: offset, length: length), as: PluginEmpty.self,
                                     attachment: UnsafeRawBufferPointer(rebasing: $0[0..<length]), in: connection)
                        }
                        sent += UInt64(length)
                    }
                    offset += UInt64(length)
                    done += UInt64(length)
                    progress?(TransferProgress(bytesDone: done, bytesTotal: total, bytesSent: sent))
                }
            }
            try plugin.checkUsable(restartsBefore: restartsBefore)
            return try blockingCall(.volumeImport, "volumeImport.commit", ImportID(importID: began.importID), as: ImportedVolume.self, in: connection)
        } catch {
            _ = try? blockingCall(.volumeImport, "volumeImport.abort", ImportID(importID: began.importID), as: PluginEmpty.self, in: connection)
            throw error
        }
    }

    public func deleteImportedVolume(id: String) async throws {
        _ = try await call(.volumeImport, "volumeImport.delete", ID(id: id), as: PluginEmpty.self)
    }

    // MARK: images

    private struct RegisterParams: Encodable { var name: String; var rootVolume: ImportedVolume; var additionalVolumes: [ImportedVolume]; var bootMode: BootMode; var tags: ResourceTags }
    private struct Images: Decodable { var images: [MachineImage] }

    public func registerImage(name: String, rootVolume: ImportedVolume, additionalVolumes: [ImportedVolume], bootMode: BootMode, tags: ResourceTags) async throws -> MachineImage {
        try await call(.images, "images.register", RegisterParams(name: name, rootVolume: rootVolume, additionalVolumes: additionalVolumes, bootMode: bootMode, tags: tags))
    }

    public func describeImages() async throws -> [MachineImage] {
        try await call(.images, "images.describe", NoParams(), as: Images.self).images
    }

    public func deregisterImage(id: String) async throws {
        _ = try await call(.images, "images.deregister", ID(id: id), as: PluginEmpty.self)
    }

    // MARK: compute

    /// LaunchSettings as the protocol spells them: `privateIP` is an address or absent.
    private struct WireLaunchSettings: Encodable {
        var instanceType: String
        var subnetID: String?
        var securityGroupIDs: [String]
        var privateIP: String?
        var tags: ResourceTags
        var bootMode: BootMode?
    }
    private struct LaunchParams: Encodable { var imageID: String; var settings: WireLaunchSettings; var userData: String?; var name: String? }
    private struct Instances: Decodable { var instances: [Instance] }
    private struct BootStatus: Decodable { var status: FirstBootStatus }
    private struct EndpointParams: Encodable { var id: String; var port: Int }

    public func launchInstance(imageID: String, settings: LaunchSettings, userData: String?, name: String?) async throws -> Instance {
        let privateIP: String?
        switch settings.privateIPPolicy {
        case .automatic: privateIP = nil
        case .fixed(let address): privateIP = address
        case .copyFromSource:
            throw PluginError(plugin: descriptor.name, path: plugin.path, method: "compute.launch", reason: .remote(code: PluginErrorCode.invalidParams, message: "the source's private IP must be resolved to an address before launch (privateIPPolicy copyFromSource)"))
        }
        let wire = WireLaunchSettings(instanceType: settings.instanceType, subnetID: settings.subnetID, securityGroupIDs: settings.securityGroupIDs, privateIP: privateIP, tags: settings.tags, bootMode: settings.bootMode)
        return try await call(.compute, "compute.launch", LaunchParams(imageID: imageID, settings: wire, userData: userData, name: name))
    }

    public func describeInstance(id: String) async throws -> Instance { try await call(.compute, "compute.describe", ID(id: id)) }
    public func describeInstances() async throws -> [Instance] { try await call(.compute, "compute.describeAll", NoParams(), as: Instances.self).instances }
    public func stopInstance(id: String) async throws -> Instance { try await call(.compute, "compute.stop", ID(id: id)) }
    public func startInstance(id: String) async throws -> Instance { try await call(.compute, "compute.start", ID(id: id)) }
    public func terminateInstance(id: String) async throws -> Instance { try await call(.compute, "compute.terminate", ID(id: id)) }

    public func firstBootStatus(id: String) async throws -> FirstBootStatus {
        try await call(.compute, "compute.firstBootStatus", ID(id: id), as: BootStatus.self).status
    }

    public func endpoint(instanceID: String, port: Int) async throws -> InstanceEndpoint {
        do {
            return try await call(.compute, "compute.endpoint", EndpointParams(id: instanceID, port: port))
        } catch let error as PluginError where error.isResourceNotFound {
            throw NoReachableEndpoint(instanceID: instanceID, port: port, reason: "adapter '\(descriptor.name)': \(error.reasonText)")
        }
    }

    // MARK: instance disks

    private struct Disks: Decodable { var disks: [DiskFacts] }

    public func instanceDisks(instanceID: String) async throws -> [DiskFacts] {
        try await call(.instanceDisks, "instanceDisks.list", ID(id: instanceID), as: Disks.self).disks
    }
}
