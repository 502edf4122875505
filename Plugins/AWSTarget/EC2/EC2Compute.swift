import FerryCore
import Foundation

// ComputeCapability over EC2: RunInstances from launch settings, then waiting for the
// states that each call promises (running, stopped, terminated).
extension AWSTargetAdapter: ComputeCapability {
    public func launchInstance(imageID: String, settings: LaunchSettings, userData: String?, name: String?) async throws -> Instance {
        let ec2 = try connection().ec2
        var p = QueryParameters([("ImageId", imageID), ("InstanceType", settings.instanceType), ("MinCount", "1"), ("MaxCount", "1")])
        p.set("SubnetId", settings.subnetID)
        p.list("SecurityGroupId", settings.securityGroupIDs)
        switch settings.privateIPPolicy {
        case .automatic: break
        case .fixed(let address): p.set("PrivateIpAddress", address)
        case .copyFromSource:
            throw AWSTargetError.unsupportedPrivateIPPolicy("the source's private IP must be resolved to a fixed address before launch (privateIPPolicy copyFromSource)")
        }
        p.set("UserData", userData.map { Data($0.utf8).base64EncodedString() })
        var tags = settings.tags
        if let name { tags["Name"] = name }
        p.tagSpecification("instance", tags)
        p.set("ClientToken", UUID().uuidString)
        let launched = try await ec2.call(.runInstances, p).items("instancesSet").first
        let id = try ec2.required(launched, "instanceId", .runInstances)
        return try await waitForState(id, .running, passing: [.pending])
    }

    public func describeInstance(id: String) async throws -> Instance {
        guard let instance = try await describe(ids: [id]).first else {
            throw AWSError(service: "ec2", operation: "DescribeInstances", httpStatus: 400, code: "InvalidInstanceID.NotFound", message: "The instance ID '\(id)' does not exist", requestID: nil)
        }
        return instance
    }

    public func describeInstances() async throws -> [Instance] {
        try await describe(ids: [])
    }

    public func stopInstance(id: String) async throws -> Instance {
        _ = try await connection().ec2.call(.stopInstances, QueryParameters([("InstanceId.1", id)]))
        return try await waitForState(id, .stopped, passing: [.running, .stopping, .pending])
    }

    public func startInstance(id: String) async throws -> Instance {
        _ = try await connection().ec2.call(.startInstances, QueryParameters([("InstanceId.1", id)]))
        return try await waitForState(id, .running, passing: [.pending, .stopped, .stopping])
    }

    public func terminateInstance(id: String) async throws -> Instance {
        _ = try await connection().ec2.call(.terminateInstances, QueryParameters([("InstanceId.1", id)]))
        return try await waitForState(id, .terminated, passing: InstanceState.allCases.filter { $0 != .terminated })
    }

    /// EC2's status checks: both passed means the guest came up.
    public func firstBootStatus(id: String) async throws -> FirstBootStatus {
        let p = QueryParameters([("InstanceId.1", id), ("IncludeAllInstances", "true")])
        guard let status = try await connection().ec2.describe(.describeInstanceStatus, p, list: "instanceStatusSet").first else {
            return .pending
        }
        return EC2Mapping.firstBootStatus(system: status.string("systemStatus/status"), instance: status.string("instanceStatus/status"))
    }

    /// The instance's public address: the only one a client outside its VPC reaches. An
    /// instance without one (a subnet that does not map public addresses, an instance that
    /// is not running, or an AWS-compatible emulator, which gives none) has no endpoint from
    /// here: its private address answers only inside its VPC, so `NoReachableEndpoint` says
    /// that rather than handing out an address nothing answers on.
    public func endpoint(instanceID: String, port: Int) async throws -> InstanceEndpoint {
        guard let item = try await describeItems(ids: [instanceID]).first else {
            throw AWSError(service: "ec2", operation: "DescribeInstances", httpStatus: 400, code: "InvalidInstanceID.NotFound", message: "The instance ID '\(instanceID)' does not exist", requestID: nil)
        }
        if let host = item.string("ipAddress"), !host.isEmpty {
            return InstanceEndpoint(host: host, port: port)
        }
        let state = item.string("instanceState/name") ?? "unknown"
        let reason: String
        if state != InstanceState.running.rawValue {
            reason = "it is \(state), not running"
        } else if let privateAddress = item.string("privateIpAddress"), !privateAddress.isEmpty {
            reason = "it has no public IP address; its private address \(privateAddress) is reachable only inside its VPC"
        } else {
            reason = "it has no IP address"
        }
        throw NoReachableEndpoint(instanceID: instanceID, port: port, reason: reason)
    }

    private func describe(ids: [String]) async throws -> [Instance] {
        try await describeItems(ids: ids).map(EC2Mapping.instance)
    }

    private func describeItems(ids: [String]) async throws -> [XMLTree] {
        var p = QueryParameters()
        p.list("InstanceId", ids)
        return try await connection().ec2.describe(.describeInstances, p, list: "reservationSet").flatMap { $0.items("instancesSet") }
    }

    /// Polls until the instance is in `target`; a state outside `passing` ends the wait early.
    private func waitForState(_ id: String, _ target: InstanceState, passing: [InstanceState]) async throws -> Instance {
        var latest: Instance?
        try await waiter().wait(for: "instance \(id) to be \(target.rawValue)") {
            let instance = try await describeInstance(id: id)
            latest = instance
            if instance.state == target { return true }
            guard passing.contains(instance.state) else {
                throw InstanceStateError(instanceID: id, expected: target, actual: instance.state)
            }
            return false
        }
        return latest!
    }
}

public struct InstanceStateError: Error, Hashable, Sendable, CustomStringConvertible {
    public var instanceID: String
    public var expected: InstanceState
    public var actual: InstanceState
    public var description: String {
        "instance \(instanceID) went \(actual.rawValue) while Ferry waited for it to be \(expected.rawValue)"
    }
}

extension EC2Mapping {
    static func firstBootStatus(system: String?, instance: String?) -> FirstBootStatus {
        let statuses = [system, instance].compactMap { $0 }
        if statuses.contains("impaired") { return .failed }
        if statuses.count == 2 && statuses.allSatisfy({ $0 == "ok" }) { return .succeeded }
        if statuses.contains("not-applicable") { return .unknown }
        return .pending
    }
}
