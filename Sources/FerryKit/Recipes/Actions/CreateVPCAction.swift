import FerryCore
/// A VPC with one subnet, and — when public — an internet gateway and a route table whose
/// default route goes through it: the unit of the workshop's SourceVPC, StagingVPC, TargetVPC.
struct CreateVPCAction: RecipeAction {
    init() {}

    let name = "network.create-vpc"
    let summary = "Create a VPC with a subnet; a public one gets an internet gateway and a default route"
    let inputs = [
        RecipeActionInput("name", .string, help: "the VPC's Name tag, e.g. SourceVPC"),
        RecipeActionInput("cidr", .string, help: "the VPC's CIDR block, /16 to /28"),
        RecipeActionInput("subnet_cidr", .string, help: "the subnet's CIDR block, inside the VPC's"),
        RecipeActionInput("public", .boolean, default: .boolean(true), help: "attach an internet gateway and route 0.0.0.0/0 through it"),
    ]
    let outputs = ["vpc_id", "subnet_id", "internet_gateway_id", "route_table_id"]
    let requiredCapabilities: [Capability] = [.networking]

    func plan(_ inputs: RecipeInputs) -> [String] {
        let name = inputs.optionalString("name") ?? "?"
        var lines = ["create VPC \(name) \(inputs.optionalString("cidr") ?? "?")", "create subnet \(name)-subnet \(inputs.optionalString("subnet_cidr") ?? "?")"]
        if inputs.boolean("public", default: true) {
            lines += ["create and attach an internet gateway to \(name)", "create a route table with 0.0.0.0/0 → the gateway, associated with the subnet"]
        }
        return lines
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let network = try context.environment.networking()
        let name = try inputs.string("name")
        let cidr = try inputs.string("cidr")
        let vpc = try await network.createVPC(cidrBlock: cidr, tags: ["Name": name])
        try context.created(CloudResource(kind: .vpc, id: vpc.id), detail: RecipeResourceDetail.json(["name": name, "cidr": cidr]))
        // "VPC", the name, the id and the CIDR read the same in every language.
        context.progress(context.say(en: "VPC \(name): \(vpc.id) \(cidr)", ja: "VPC \(name): \(vpc.id) \(cidr)"))
        let subnetCIDR = try inputs.string("subnet_cidr")
        let subnet = try await network.createSubnet(vpcID: vpc.id, cidrBlock: subnetCIDR, availabilityZone: nil, tags: ["Name": "\(name)-subnet"])
        try context.created(CloudResource(kind: .subnet, id: subnet.id), detail: RecipeResourceDetail.json(["name": "\(name)-subnet", "cidr": subnetCIDR, "vpc": vpc.id]))
        var outputs: [String: RecipeValue] = ["vpc_id": .string(vpc.id), "subnet_id": .string(subnet.id), "internet_gateway_id": .string(""), "route_table_id": .string("")]
        if inputs.boolean("public", default: true) {
            let gateway = try await network.createInternetGateway(attachingTo: vpc.id, tags: ["Name": "\(name)-igw"])
            try context.created(CloudResource(kind: .internetGateway, id: gateway.id), detail: RecipeResourceDetail.json(["vpc": vpc.id]))
            let table = try await network.createRouteTable(vpcID: vpc.id, tags: ["Name": "\(name)-public"])
            try context.created(CloudResource(kind: .routeTable, id: table.id), detail: RecipeResourceDetail.json(["vpc": vpc.id]))
            try await network.createRoute(routeTableID: table.id, destinationCIDR: "0.0.0.0/0", gatewayID: gateway.id)
            try await network.associateRouteTable(routeTableID: table.id, subnetID: subnet.id)
            outputs["internet_gateway_id"] = .string(gateway.id)
            outputs["route_table_id"] = .string(table.id)
        }
        return outputs
    }
}
