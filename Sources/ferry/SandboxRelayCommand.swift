import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import SandboxTarget

/// What QEMU starts for each guest connection to a service address (guestfwd … cmd:): the
/// connection is its standard input and output, and its standard error too, so it prints
/// nothing. Not for people: hidden from the help.
struct SandboxRelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Relay one guest connection to a service endpoint, if the security groups allow it.",
        shouldDisplay: false
    )

    @Option(help: "The sandbox's folder.")
    var sandbox: String

    @Option(help: "The instance the connection comes from.")
    var from: String

    @Option(help: ArgumentHelp("The address and port the guest connected to.", valueName: "address:port"))
    var to: String

    func run() throws {
        guard let colon = to.lastIndex(of: ":"), let port = Int(to[to.index(after: colon)...]) else { throw ExitCode(2) }
        guard let cloud = try? SandboxCloud(directory: URL(fileURLWithPath: sandbox), diskImages: DiskImageReaders()) else { throw ExitCode(1) }
        SandboxRelay(cloud: cloud, instanceID: from, address: String(to[..<colon]), port: port).run()
    }
}

struct SandboxRunCommandCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-command",
        abstract: "Run a shell command as root inside a running instance (as Systems Manager's Run Command), over SSH with the sandbox's key.",
        discussion: "Options go before --, the command after it. Example: ferry sandbox run-command i-0123 --workspace ws -- 'uname -a; df -h /'. The Debian guests can; the busybox guest has no SSH server."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The instance id (i-…).")
    var id: String

    @Argument(parsing: .postTerminator, help: "The command, after -- (run by /bin/sh as root).")
    var command: [String] = []

    @Option(help: "Seconds it may take.")
    var timeout = 600

    func run() throws {
        let words = command
        guard !words.isEmpty else { throw CommandRefusal("give the command after --, e.g. ferry sandbox run-command \(id) -- 'uname -a' (options go before --)") }
        let result = try global.openSandbox().runCommand(instanceID: id, command: words.joined(separator: " "), timeoutSeconds: timeout) { line in
            print(line)
        }
        if result.exitStatus != 0 { throw ExitCode(result.exitStatus) }
    }
}

struct SandboxSecurityGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "security-group",
        abstract: "Show a security group, or add and remove its inbound rules (rules as tcp:1500:0.0.0.0/0).",
        subcommands: [Show.self, Authorize.self, Revoke.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a security group's rules.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The group id (sg-…).") var id: String

        func run() throws {
            guard let group = try global.openSandbox().describeNetworks().securityGroups.first(where: { $0.id == id }) else {
                throw ValidationError("no security group \(id) in this sandbox")
            }
            if global.output == .json { return try Output.json(group) }
            print("\(group.id) \(group.name) (\(group.vpcID)): \(group.description)")
            for rule in group.ingress { print("  in   \(rule.ipProtocol.rawValue):\(rule.fromPort == rule.toPort ? "\(rule.fromPort)" : "\(rule.fromPort)-\(rule.toPort)") from \(rule.sourceCIDR ?? rule.sourceSecurityGroupID ?? "?")") }
            for rule in group.egress { print("  out  \(rule.ipProtocol.rawValue):\(rule.fromPort == rule.toPort ? "\(rule.fromPort)" : "\(rule.fromPort)-\(rule.toPort)") to \(rule.destinationCIDR ?? rule.destinationSecurityGroupID ?? "?")") }
        }
    }

    struct Authorize: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "authorize", abstract: "Add inbound rules.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The group id (sg-…).") var id: String
        @Argument(help: "Rules: PROTOCOL:PORT[-PORT]:SOURCE.") var rules: [String]

        func run() throws {
            try global.openSandbox().authorizeIngress(securityGroupID: id, rules: try rules.map { try SecurityGroupRuleText.parse($0, input: "rule") })
            print("\(id): added \(rules.joined(separator: ", "))")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Remove inbound rules; connections they allowed end within a second.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The group id (sg-…).") var id: String
        @Argument(help: "Rules: PROTOCOL:PORT[-PORT]:SOURCE.") var rules: [String]

        func run() throws {
            try global.openSandbox().revokeIngress(securityGroupID: id, rules: try rules.map { try SecurityGroupRuleText.parse($0, input: "rule") })
            print("\(id): removed \(rules.joined(separator: ", "))")
        }
    }
}
