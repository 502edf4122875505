/// VPCs, subnets, internet gateways, route tables and security groups, with the rules a
/// real cloud enforces (a subnet inside its VPC, no deleting what is in use, …).
public protocol NetworkingCapability: Adapter {
    func createVPC(cidrBlock: String, tags: ResourceTags) async throws -> VPC
    func createSubnet(vpcID: String, cidrBlock: String, availabilityZone: String?, tags: ResourceTags) async throws -> Subnet
    /// Creates an internet gateway and attaches it to `vpcID`.
    func createInternetGateway(attachingTo vpcID: String, tags: ResourceTags) async throws -> InternetGateway
    func createRouteTable(vpcID: String, tags: ResourceTags) async throws -> RouteTable
    func createRoute(routeTableID: String, destinationCIDR: String, gatewayID: String) async throws
    func associateRouteTable(routeTableID: String, subnetID: String) async throws
    func createSecurityGroup(vpcID: String, name: String, description: String, tags: ResourceTags) async throws -> SecurityGroup
    func authorizeIngress(securityGroupID: String, rules: [IngressRule]) async throws
    /// Makes `rules` the group's whole egress: what it allowed out before (all traffic, for a
    /// new group) is revoked. MGN's replication servers, say, may only reach out on TCP 443
    /// and UDP 53.
    func replaceEgress(securityGroupID: String, rules: [EgressRule]) async throws
    func describeNetworks() async throws -> NetworkInventory
    /// Deletes a VPC, subnet, internet gateway (detaching it first), route table
    /// (disassociating it from its subnets first) or security group; refuses with a
    /// dependency error while something else still uses it.
    func deleteNetworkResource(_ resource: CloudResource) async throws
}
