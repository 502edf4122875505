import FerryCore

/// A security group rule as recipes and commands write it: "tcp:1500:0.0.0.0/0",
/// "udp:53:10.0.0.0/16", "tcp:8000-8010:…", or with a group as the peer ("tcp:80:sg-…").
public enum SecurityGroupRuleText {
    /// A rule as written in the recipe; the peer (source or destination) is the CIDR or group last.
    public static func parse(_ text: String, input: String = "ingress") throws -> IngressRule {
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count == 3, let proto = IPProtocol(rawValue: parts[0].lowercased()) else {
            throw RecipeInputError.invalid(name: input, reason: "'\(text)' is not PROTOCOL:PORT[-PORT]:\(input == "egress" ? "DESTINATION" : "SOURCE") with PROTOCOL tcp, udp or icmp")
        }
        let ports = parts[1].split(separator: "-").compactMap { Int($0) }
        guard (1...2).contains(ports.count), ports.allSatisfy({ (0...65535).contains($0) }), ports.first! <= ports.last! else {
            throw RecipeInputError.invalid(name: input, reason: "'\(parts[1])' in '\(text)' is not a port or a port range")
        }
        let source = parts[2]
        return IngressRule(ipProtocol: proto, fromPort: ports.first!, toPort: ports.last!,
                           sourceCIDR: source.hasPrefix("sg-") ? nil : source,
                           sourceSecurityGroupID: source.hasPrefix("sg-") ? source : nil)
    }
}
