import FerryCore
import Foundation

/// Everything in the sandbox of a workspace, for `ferry sandbox status`.
public struct SandboxStatus: Codable, Sendable {
    public struct InstanceStatus: Codable, Sendable {
        public var instance: Instance
        public var name: String?
        public var stateReason: String?
        public var firstBoot: FirstBootStatus
        /// Guest TCP ports reachable on 127.0.0.1.
        public var forwardedPorts: [ForwardedPort]
    }

    public var instances: [InstanceStatus]
    public var images: [MachineImage]
    public var volumes: [ImportedVolume]
    public var networks: NetworkInventory
    public var users: [IdentityUser]
}

extension SandboxCloud {
    public func status() throws -> SandboxStatus {
        let instances = try instanceRecords().map(Self.instanceStatus)
        return SandboxStatus(
            instances: instances, images: try describeImages(), volumes: try describeVolumes(),
            networks: try describeNetworks(), users: try listUsers()
        )
    }

    /// One instance with its live state, first-boot status and forwarded ports.
    public func instanceStatus(id: String) throws -> SandboxStatus.InstanceStatus {
        Self.instanceStatus(try refreshed(id))
    }

    static func instanceStatus(_ record: InstanceRecord) -> SandboxStatus.InstanceStatus {
        SandboxStatus.InstanceStatus(
            instance: record.model, name: record.name, stateReason: record.stateReason,
            firstBoot: FirstBootStatus(rawValue: record.firstBoot) ?? .unknown, forwardedPorts: record.portList
        )
    }
}
