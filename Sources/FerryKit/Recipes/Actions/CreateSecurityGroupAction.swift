import FerryCore
/// A security group with ingress rules written as "tcp:1500:0.0.0.0/0", "udp:53:10.0.0.0/16",
/// "tcp:8000-8010:…", or with a source group instead of a CIDR ("tcp:80:sg-…").
struct CreateSecurityGroupAction: RecipeAction {
    init() {}

    let name = "network.create-security-group"
    let summary = "Create a security group with ingress rules"
    let inputs = [
        RecipeActionInput("vpc_id", .string, help: "the VPC the group belongs to"),
        RecipeActionInput("name", .string, help: "the group's name"),
        RecipeActionInput("description", .string, default: .string("created by a Ferry recipe"), help: "what the group is for"),
        RecipeActionInput("ingress", .list, default: .list([]), help: "rules: PROTOCOL:PORT[-PORT]:SOURCE (a CIDR or a group id)"),
    ]
    let outputs = ["security_group_id"]
    let requiredCapabilities: [Capability] = [.networking]

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["create security group \(inputs.optionalString("name") ?? "?") allowing \(inputs.strings("ingress").joined(separator: ", "))"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let rules = try inputs.strings("ingress").map(Self.rule)
        let network = try context.environment.networking()
        let vpcID = try inputs.string("vpc_id")
        let name = try inputs.string("name")
        let group = try await network.createSecurityGroup(vpcID: vpcID, name: name, description: try inputs.string("description"), tags: ["Name": name])
        try context.created(CloudResource(kind: .securityGroup, id: group.id), detail: RecipeResourceDetail.json(["name": name, "vpc": vpcID]))
        if !rules.isEmpty { try await network.authorizeIngress(securityGroupID: group.id, rules: rules) }
        context.progress(context.say(en: "security group \(name): \(group.id), \(rules.count) ingress rule\(rules.count == 1 ? "" : "s")",
                                     ja: "セキュリティグループ \(name): \(group.id)、インバウンドルール \(rules.count) 件"))
        return ["security_group_id": .string(group.id)]
    }

    static func rule(_ text: String) throws -> IngressRule {
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count == 3, let proto = IPProtocol(rawValue: parts[0].lowercased()) else {
            throw RecipeInputError.invalid(name: "ingress", reason: "'\(text)' is not PROTOCOL:PORT[-PORT]:SOURCE with PROTOCOL tcp, udp or icmp")
        }
        let ports = parts[1].split(separator: "-").compactMap { Int($0) }
        guard (1...2).contains(ports.count), ports.allSatisfy({ (0...65535).contains($0) }), ports.first! <= ports.last! else {
            throw RecipeInputError.invalid(name: "ingress", reason: "'\(parts[1])' in '\(text)' is not a port or a port range")
        }
        let source = parts[2]
        return IngressRule(ipProtocol: proto, fromPort: ports.first!, toPort: ports.last!,
                           sourceCIDR: source.hasPrefix("sg-") ? nil : source,
                           sourceSecurityGroupID: source.hasPrefix("sg-") ? source : nil)
    }
}
