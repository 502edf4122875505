import Foundation
import FerryCore

/// What the sandbox cloud refuses or fails at, with what is needed to act on it. Names follow
/// the error codes of the cloud it imitates where there is one (`DependencyViolation`, …).
public enum SandboxError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidCIDR(String, reason: String)
    case vpcSizeOutOfRange(String)
    case subnetOutsideVPC(subnet: String, vpcID: String, vpcCIDR: String)
    case subnetOverlap(subnet: String, existingID: String, existingCIDR: String)
    case notFound(kind: CloudResourceKind, id: String)
    case dependencyViolation(resource: String, usedBy: [String])
    case gatewayAlreadyAttached(vpcID: String, gatewayID: String)
    case gatewayNotAttached(gatewayID: String, vpcID: String)
    case routeAlreadyExists(routeTableID: String, destination: String)
    case wrongVPC(resource: String, resourceVPC: String, expectedVPC: String)
    case duplicateSecurityGroupName(name: String, vpcID: String)
    case invalidIngressRule(String)
    case userAlreadyExists(String)
    case accessKeyLimit(userName: String, limit: Int)
    case invalidName(field: String, value: String, reason: String)
    case volumeImport(volume: String, reason: String)
    case unknownInstanceType(String, known: [String])
    case instanceTypeTooSmall(type: String, memoryMiB: Int, image: String, needsMiB: Int, enough: [String])
    case privateIPOutsideSubnet(ip: String, subnetID: String, cidr: String)
    case privateIPReserved(ip: String, subnetID: String)
    case privateIPInUse(ip: String, instanceID: String)
    case subnetFull(subnetID: String)
    case hostPortTaken(port: Int, instanceID: String)
    case toolMissing(tool: String, package: String, purpose: String)
    case commandFailed(command: String, status: Int32, output: String)
    case qemuFailed(instanceID: String, output: String)
    case firstBootTimeout(instanceID: String, seconds: Int, consoleTail: String)
    case processDied(instanceID: String, consoleTail: String)
    case invalidState(instanceID: String, state: InstanceState, action: String)
    case portNotForwarded(instanceID: String, port: Int, forwarded: [Int])
    case baseImage(String)
    case unreadableInstanceDisk(instanceID: String, path: String)
    case guestBuild(profile: String, step: String, output: String)

    public var description: String {
        switch self {
        case .invalidCIDR(let cidr, let reason):
            return "InvalidParameterValue: '\(cidr)' is not a valid IPv4 CIDR block: \(reason)"
        case .vpcSizeOutOfRange(let cidr):
            return "InvalidVpc.Range: \(cidr): a VPC or subnet CIDR block must be between /16 and /28"
        case .subnetOutsideVPC(let subnet, let vpcID, let vpcCIDR):
            return "InvalidSubnet.Range: \(subnet) is not inside \(vpcID)'s CIDR block \(vpcCIDR)"
        case .subnetOverlap(let subnet, let existingID, let existingCIDR):
            return "InvalidSubnet.Conflict: \(subnet) overlaps \(existingID) (\(existingCIDR))"
        case .notFound(let kind, let id):
            return "\(Self.notFoundCode(kind)): no \(kind.rawValue) '\(id)' in the sandbox (see `ferry sandbox status`)"
        case .dependencyViolation(let resource, let usedBy):
            return "DependencyViolation: \(resource) is still used by \(usedBy.joined(separator: ", ")); delete or detach those first"
        case .gatewayAlreadyAttached(let vpcID, let gatewayID):
            return "Resource.AlreadyAssociated: \(vpcID) already has internet gateway \(gatewayID) attached"
        case .gatewayNotAttached(let gatewayID, let vpcID):
            return "InvalidGatewayID.NotAttached: \(gatewayID) is not attached to \(vpcID)"
        case .routeAlreadyExists(let routeTableID, let destination):
            return "RouteAlreadyExists: \(routeTableID) already has a route to \(destination)"
        case .wrongVPC(let resource, let resourceVPC, let expectedVPC):
            return "InvalidParameterValue: \(resource) is in \(resourceVPC), not in \(expectedVPC)"
        case .duplicateSecurityGroupName(let name, let vpcID):
            return "InvalidGroup.Duplicate: \(vpcID) already has a security group named '\(name)'"
        case .invalidIngressRule(let reason):
            return "InvalidParameterValue: ingress rule: \(reason)"
        case .userAlreadyExists(let name):
            return "EntityAlreadyExists: a user named '\(name)' already exists"
        case .accessKeyLimit(let userName, let limit):
            return "LimitExceeded: user '\(userName)' already has \(limit) access keys"
        case .invalidName(let field, let value, let reason):
            return "InvalidParameterValue: \(field) '\(value)': \(reason)"
        case .volumeImport(let volume, let reason):
            return "volume import \(volume) failed: \(reason)"
        case .unknownInstanceType(let type, let known):
            return "InvalidParameterValue: unknown instance type '\(type)' (the sandbox has: \(known.joined(separator: ", ")))"
        case .instanceTypeTooSmall(let type, let memory, let image, let needs, let enough):
            return "InvalidParameterValue: \(type) has \(memory) MiB of memory and image \(image) needs \(needs) MiB to boot and serve: use \(enough.isEmpty ? "a larger type" : enough.joined(separator: ", "))"
        case .privateIPOutsideSubnet(let ip, let subnetID, let cidr):
            return "InvalidParameterValue: address \(ip) is not in \(subnetID) (\(cidr))"
        case .privateIPReserved(let ip, let subnetID):
            return "InvalidParameterValue: address \(ip) is reserved in \(subnetID) (the first four and the last address of a subnet)"
        case .privateIPInUse(let ip, let instanceID):
            return "InvalidIPAddress.InUse: address \(ip) is already used by \(instanceID)"
        case .subnetFull(let subnetID):
            return "InsufficientFreeAddressesInSubnet: \(subnetID) has no free address left"
        case .hostPortTaken(let port, let instanceID):
            return "127.0.0.1:\(port), forwarded to \(instanceID), is taken by another program on this machine; stop that program or terminate the instance and launch a new one"
        case .toolMissing(let tool, let package, let purpose):
            return "\(tool) is needed to \(purpose) but is not installed: install the Debian package \(package) (apt-get install --no-install-recommends \(package), or `make deps`)"
        case .commandFailed(let command, let status, let output):
            return "\(command) failed (exit \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .qemuFailed(let id, let output):
            return "QEMU could not start \(id): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .firstBootTimeout(let id, let seconds, let tail):
            return "\(id) did not report its first boot within \(seconds) s and was terminated. Last lines of its console:\n\(tail)"
        case .processDied(let id, let tail):
            return "the QEMU process of \(id) died. Last lines of its console:\n\(tail)"
        case .invalidState(let id, let state, let action):
            return "IncorrectInstanceState: cannot \(action) \(id) while it is \(state.rawValue)"
        case .portNotForwarded(let id, let port, let forwarded):
            let list = forwarded.isEmpty ? "none" : forwarded.map(String.init).joined(separator: ", ")
            return "port \(port) of \(id) is not opened by its security groups (forwarded ports: \(list))"
        case .baseImage(let reason):
            return "building the base image failed: \(reason)"
        case .unreadableInstanceDisk(let id, let path):
            return "the disk of \(id), \(path), is not a qcow2 image; terminate the instance and launch it again"
        case .guestBuild(let profile, let step, let output):
            let detail = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return "building the \(profile) guest image failed while trying to \(step)"
                + (detail.isEmpty ? "" : ":\n\(detail)")
                + "\nThe busybox profile (image ferry-sandbox-linux) is built from this machine's own packages, needs no network, and still works."
        }
    }

    private static func notFoundCode(_ kind: CloudResourceKind) -> String {
        switch kind {
        case .vpc: return "InvalidVpcID.NotFound"
        case .subnet: return "InvalidSubnetID.NotFound"
        case .internetGateway: return "InvalidInternetGatewayID.NotFound"
        case .routeTable: return "InvalidRouteTableID.NotFound"
        case .securityGroup: return "InvalidGroup.NotFound"
        case .user, .accessKey: return "NoSuchEntity"
        case .volume: return "InvalidVolume.NotFound"
        case .snapshot: return "InvalidSnapshot.NotFound"
        case .image: return "InvalidAMIID.NotFound"
        case .instance: return "InvalidInstanceID.NotFound"
        case .process: return "InvalidProcess.NotFound"
        case .networkInterface: return "InvalidNetworkInterfaceID.NotFound"
        case .agent: return "InvalidInstanceID.NotFound"
        }
    }
}

extension SandboxError: ResourceNotFoundError {
    public var isResourceNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }
}
