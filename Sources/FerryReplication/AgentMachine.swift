import FerryCore
import Foundation

/// The machine an agent replicates, found through a source adapter: its facts and its disks
/// opened as block readers, with a change stamp where the adapter tracks changes.
public struct AgentMachine: Sendable {
    public var facts: MachineFacts
    public var disks: [ReplicationAgent.Disk]

    /// The one machine `source` finds with `configuration` (the one named `hostname`, when
    /// the adapter finds several).
    public static func discover(through source: any SourceAdapter, configuration: AdapterConfiguration, hostname: String?) async throws -> AgentMachine {
        let machines = try await source.discoverMachines(configuration: configuration)
        let chosen = hostname.flatMap { wanted in machines.first { $0.hostname == wanted } } ?? (machines.count == 1 ? machines.first : nil)
        guard let facts = chosen else {
            let names = machines.map(\.hostname).joined(separator: ", ")
            throw AgentMachineError(reason: machines.isEmpty ? "the \(source.name) adapter found no machine with these options"
                                                             : "the \(source.name) adapter found several machines (\(names)); pick one with --hostname")
        }
        return try open(facts, through: source, configuration: configuration)
    }

    /// This machine itself, as `local` (the adapter that reads this host's own devices)
    /// finds it, or with `paths` as its disks instead of the devices it finds.
    public static func local(through local: any SourceAdapter, configuration: AdapterConfiguration, paths: [String], hostname: String?) async throws -> AgentMachine {
        guard var facts = try await local.discoverMachines(configuration: configuration).first else {
            throw AgentMachineError(reason: "the \(local.name) adapter found no machine here")
        }
        if let hostname { facts.hostname = hostname }
        if !paths.isEmpty {
            facts.disks = try paths.map { path in
                let reader = try local.openDisk(DiskFacts(name: path, sizeBytes: 0, locator: path), configuration: configuration)
                return DiskFacts(name: path, sizeBytes: reader.size, locator: path, isBoot: path == paths.first)
            }
        }
        guard !facts.disks.isEmpty else {
            throw AgentMachineError(reason: "no disk to replicate was identified on this machine; name one with --disk PATH")
        }
        return try open(facts, through: local, configuration: configuration)
    }

    private static func open(_ facts: MachineFacts, through source: any SourceAdapter, configuration: AdapterConfiguration) throws -> AgentMachine {
        let tracking = source.descriptor.capabilities.contains(.changeTracking) ? source as? any ChangeTrackingSource : nil
        let disks = try facts.disks.map { disk -> ReplicationAgent.Disk in
            ReplicationAgent.Disk(facts: disk, reader: try source.openDisk(disk, configuration: configuration), changeStamp: {
                tracking.flatMap { try? $0.changeStamp(of: disk, configuration: configuration) }?.value
            })
        }
        return AgentMachine(facts: facts, disks: disks)
    }

    /// The identity of this machine as a source server (`AgentIdentity`).
    public var identity: String {
        AgentIdentity.make(hostname: facts.hostname, diskLocators: disks.map(\.facts.locator))
    }
}

public struct AgentMachineError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
