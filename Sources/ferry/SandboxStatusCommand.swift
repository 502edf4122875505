import ArgumentParser
import FerryCore
import FerryKit
import SandboxTarget

struct SandboxStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "List every sandbox resource; instances with state, private IP and forwarded ports.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let sandbox = try global.openSandbox()
        let status = try sandbox.status()
        if global.output == .json { return try Output.json(status) }
        print("Instances")
        Output.table(["ID", "NAME", "STATE", "FIRST BOOT", "TYPE", "PRIVATE IP", "PORTS"], status.instances.map { s in
            [s.instance.id, s.name ?? "-", s.instance.state.rawValue + (s.stateReason.map { " (\($0))" } ?? ""), s.firstBoot.rawValue,
             s.instance.instanceType, s.instance.privateIPAddress ?? "-", s.forwardedPorts.map(\.summary).joined(separator: " ")]
        })
        print("\nImages")
        Output.table(["ID", "NAME", "VOLUMES"], status.images.map { [$0.id, $0.name, $0.volumeIDs.joined(separator: " ")] })
        print("\nVolumes and snapshots")
        Output.table(["ID", "KIND", "SIZE", "NAME"], status.volumes.map { [$0.id, $0.kind.rawValue, Output.bytes($0.sizeBytes), $0.tags["Name"] ?? ""] })
        let networks = status.networks
        print("\nNetworks")
        var rows: [[String]] = networks.vpcs.map { ["vpc", $0.id, $0.cidrBlock, ""] }
        rows += networks.subnets.map { ["subnet", $0.id, $0.cidrBlock, $0.vpcID] }
        rows += networks.internetGateways.map { ["internet-gateway", $0.id, "", $0.attachedVPCID ?? "detached"] }
        rows += networks.routeTables.map { table in
            ["route-table", table.id, table.routes.map { "\($0.destinationCIDR)→\($0.target)" }.joined(separator: " "), table.vpcID]
        }
        rows += networks.securityGroups.map { group in
            let inbound = group.ingress.map { "in \($0.ipProtocol.rawValue) \($0.fromPort)-\($0.toPort) from \($0.sourceCIDR ?? $0.sourceSecurityGroupID ?? "?")" }
            let outbound = group.egress.map { "out \($0.ipProtocol.rawValue) \($0.fromPort)-\($0.toPort) to \($0.destinationCIDR ?? $0.destinationSecurityGroupID ?? "?")" }
            return ["security-group", group.id, group.name + ": " + (inbound + outbound).joined(separator: ", "), group.vpcID]
        }
        // Processes of this machine placed in a subnet (the replication server).
        let subnetVPC = Dictionary(networks.subnets.map { ($0.id, $0.vpcID) }, uniquingKeysWith: { first, _ in first })
        rows += ((try? sandbox.serviceEndpoints()) ?? []).map { endpoint in
            ["network-interface", endpoint.id, "\(endpoint.name) at \(endpoint.address) (127.0.0.1:\(endpoint.hostPort)) in \(endpoint.subnetID)", subnetVPC[endpoint.subnetID] ?? ""]
        }
        Output.table(["KIND", "ID", "DETAIL", "VPC"], rows)
        print("\nUsers")
        Output.table(["NAME", "ARN"], status.users.map { [$0.name, $0.arn] })
    }
}
