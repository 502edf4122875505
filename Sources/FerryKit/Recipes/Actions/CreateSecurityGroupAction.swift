import FerryCore
/// A security group with ingress rules written as "tcp:1500:0.0.0.0/0", "udp:53:10.0.0.0/16",
/// "tcp:8000-8010:…", or with a source group instead of a CIDR ("tcp:80:sg-…"), and egress
/// rules written the same way with the destination last. Without egress rules the group
/// keeps the default, all traffic out; with them, they are all it allows out.
struct CreateSecurityGroupAction: RecipeAction {
    init() {}

    let name = "network.create-security-group"
    let summary = "Create a security group with ingress and egress rules"
    let inputs = [
        RecipeActionInput("vpc_id", .string, help: "the VPC the group belongs to"),
        RecipeActionInput("name", .string, help: "the group's name"),
        RecipeActionInput("description", .string, default: .string("created by a Ferry recipe"), help: "what the group is for"),
        RecipeActionInput("ingress", .list, default: .list([]), help: "rules in: PROTOCOL:PORT[-PORT]:SOURCE (a CIDR or a group id)"),
        RecipeActionInput("egress", .list, default: .list([]), help: "rules out: PROTOCOL:PORT[-PORT]:DESTINATION; when given, all the group allows out (default: all traffic)"),
    ]
    let outputs = ["security_group_id"]
    let requiredCapabilities: [Capability] = [.networking]

    func plan(_ inputs: RecipeInputs) -> [String] {
        let egress = inputs.strings("egress")
        return ["create security group \(inputs.optionalString("name") ?? "?") allowing in \(inputs.strings("ingress").joined(separator: ", "))"
                + (egress.isEmpty ? "" : " and out only \(egress.joined(separator: ", "))")]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let rules = try inputs.strings("ingress").map { try Self.rule($0, input: "ingress") }
        let egress = try inputs.strings("egress").map { try Self.rule($0, input: "egress") }.map {
            EgressRule(ipProtocol: $0.ipProtocol, fromPort: $0.fromPort, toPort: $0.toPort, destinationCIDR: $0.sourceCIDR, destinationSecurityGroupID: $0.sourceSecurityGroupID)
        }
        let network = try context.environment.networking()
        let vpcID = try inputs.string("vpc_id")
        let name = try inputs.string("name")
        let group = try await network.createSecurityGroup(vpcID: vpcID, name: name, description: try inputs.string("description"), tags: ["Name": name])
        try context.created(CloudResource(kind: .securityGroup, id: group.id), detail: RecipeResourceDetail.json(["name": name, "vpc": vpcID]))
        if !rules.isEmpty { try await network.authorizeIngress(securityGroupID: group.id, rules: rules) }
        if !egress.isEmpty { try await network.replaceEgress(securityGroupID: group.id, rules: egress) }
        context.progress(context.say(
            en: "security group \(name): \(group.id), \(rules.count) ingress rule\(rules.count == 1 ? "" : "s"), "
                + (egress.isEmpty ? "all traffic out" : "\(egress.count) egress rule\(egress.count == 1 ? "" : "s")"),
            ja: "セキュリティグループ \(name): \(group.id)、インバウンドルール \(rules.count) 件、"
                + (egress.isEmpty ? "アウトバウンドはすべて許可" : "アウトバウンドルール \(egress.count) 件")))
        return ["security_group_id": .string(group.id)]
    }

    static func rule(_ text: String, input: String) throws -> IngressRule {
        try SecurityGroupRuleText.parse(text, input: input)
    }
}
