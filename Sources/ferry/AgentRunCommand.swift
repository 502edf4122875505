import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import PhysicalSource

struct AgentRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replicate this machine's disks to a replication server, block by block."
    )

    @Option(help: ArgumentHelp("The replication server.", valueName: "host:port"))
    var server: String

    @Option(help: "The project's agent token (see `ferry agent token`); or set FERRY_AGENT_TOKEN.")
    var token: String?

    @Option(name: .customLong("disk"), help: ArgumentHelp("A disk to replicate (raw image or block device); repeat for more.", valueName: "path"))
    var disks: [String] = []

    @Flag(help: "Keep replicating changes until stopped.")
    var continuous = false

    @Option(help: "Seconds between passes in continuous mode (sooner when a disk changes).")
    var interval: Double = 10

    @Option(name: .customLong("throttle-mbps"), help: "Bandwidth limit in Mbit/s.")
    var throttleMbps: Int?

    @Option(help: "Connections a one-shot run tries before it gives up (continuous runs keep trying).")
    var attempts: Int = 5

    @Flag(help: "Compress blocks on the wire (zlib).")
    var compress = false

    @Option(help: "The machine's name (default: this host's name).")
    var hostname: String?

    @Option(help: ArgumentHelp("Read the machine through this source adapter instead of this host's disks (vmware, or an external adapter); --hostname picks one of several machines.", valueName: "name"))
    var adapter: String?

    @Option(name: .customLong("option"), help: ArgumentHelp("With --adapter: an adapter option, as name=value (repeatable).", valueName: "name=value"))
    var options: [String] = []

    @Option(help: ArgumentHelp("What makes this machine the same source server across restarts (default: hostname and disks).", valueName: "id"))
    var identity: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let endpoint = try Endpoint(parsing: server, option: "--server")
        guard let tokenText = token ?? ProcessInfo.processInfo.environment["FERRY_AGENT_TOKEN"], !tokenText.isEmpty else {
            throw ValidationError("the agent needs the project's token: --token TOKEN or FERRY_AGENT_TOKEN (see `ferry agent token` on the workbench)")
        }
        if adapter == nil && !options.isEmpty { throw ValidationError("--option needs --adapter") }
        guard attempts >= 1 else { throw ValidationError("--attempts must be 1 or more, not \(attempts)") }
        if adapter != nil && !disks.isEmpty { throw ValidationError("--disk and --adapter cannot be used together") }
        let identified = if let adapter {
            try await AgentDisks.identify(adapter: adapter, options: try OptionPairs.parse(options), hostname: hostname, workspaceRoot: global.workspaceURL)
        } else {
            try await AgentDisks.identify(paths: disks, hostname: hostname)
        }
        for disk in identified.disks {
            FileHandle.standardError.write(Data("Disk to replicate identified: \(disk.facts.name) of size \(Output.bytes(disk.facts.sizeBytes))\n".utf8))
        }
        let machineIdentity = identity ?? AgentDisks.identity(hostname: identified.facts.hostname, disks: identified.disks.map(\.facts.locator))
        let agent = ReplicationAgent(configuration: .init(
            host: endpoint.host, port: endpoint.port, token: Secret(tokenText), identity: machineIdentity,
            facts: identified.facts, disks: identified.disks, continuous: continuous,
            interval: .milliseconds(Int(interval * 1000)),
            throttleBytesPerSecond: throttleMbps.map { $0 * 1_000_000 / 8 }, compress: compress, attempts: attempts
        ))
        let printer = AgentProgressPrinter(json: global.output == .json)
        // Only a lost connection is retried; a failing source (a plugin Ferry gave up on,
        // a disk that cannot be read) ends the run with its own error.
        try await agent.run { printer.show($0) }
    }
}

/// The disks the agent replicates: the ones named, or the machine's own, found and read
/// through the physical source adapter.
enum AgentDisks {
    static func identify(paths: [String], hostname: String?) async throws -> (facts: MachineFacts, disks: [ReplicationAgent.Disk]) {
        let physical = PhysicalSourceAdapter(diskImages: DiskImageReaders())
        let configuration = try AdapterConfiguration(["local": "true"], for: physical.descriptor)
        guard var facts = try await physical.discoverMachines(configuration: configuration).first else {
            throw ValidationError("the physical source adapter found no machine here")
        }
        if let hostname { facts.hostname = hostname }
        if !paths.isEmpty {
            facts.disks = try paths.map { path in
                let reader = try physical.openDisk(DiskFacts(name: path, sizeBytes: 0, locator: path), configuration: configuration)
                return DiskFacts(name: path, sizeBytes: reader.size, locator: path, isBoot: path == paths.first)
            }
        }
        guard !facts.disks.isEmpty else {
            throw ValidationError("no disk to replicate was identified on this machine; name one with --disk PATH")
        }
        let disks = try facts.disks.map { disk -> ReplicationAgent.Disk in
            ReplicationAgent.Disk(facts: disk, reader: try physical.openDisk(disk, configuration: configuration), changeStamp: {
                (try? physical.changeStamp(of: disk, configuration: configuration))?.value
            })
        }
        return (facts, disks)
    }

    /// The disks of one machine that `adapter` finds with `options`, read through it.
    static func identify(adapter name: String, options: [String: String], hostname: String?, workspaceRoot: URL) async throws -> (facts: MachineFacts, disks: [ReplicationAgent.Disk]) {
        let source = try InstalledAdapters.source(named: name, workspaceRoot: workspaceRoot)
        let configuration = try AdapterConfiguration(options, for: source.descriptor)
        let machines = try await source.discoverMachines(configuration: configuration)
        let chosen = hostname.flatMap { wanted in machines.first { $0.hostname == wanted } } ?? (machines.count == 1 ? machines.first : nil)
        guard let facts = chosen else {
            let names = machines.map(\.hostname).joined(separator: ", ")
            throw ValidationError(machines.isEmpty ? "the \(name) adapter found no machine with these options"
                                                   : "the \(name) adapter found several machines (\(names)); pick one with --hostname")
        }
        let tracking = source.descriptor.capabilities.contains(.changeTracking) ? source as? any ChangeTrackingSource : nil
        let disks = try facts.disks.map { disk -> ReplicationAgent.Disk in
            ReplicationAgent.Disk(facts: disk, reader: try source.openDisk(disk, configuration: configuration), changeStamp: {
                tracking.flatMap { try? $0.changeStamp(of: disk, configuration: configuration) }?.value
            })
        }
        return (facts, disks)
    }

    static func identity(hostname: String, disks: [String]) -> String {
        hostname + "-" + ChunkHash(hashing: Array((hostname + "\n" + disks.joined(separator: "\n")).utf8)).hex.prefix(16)
    }
}

/// `host:port` as given on the command line.
struct Endpoint {
    var host: String
    var port: Int

    init(parsing text: String, option: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port), colon != text.startIndex else {
            throw ValidationError("\(option) must be host:port, like 127.0.0.1:1500, not '\(text)'")
        }
        host = String(text[..<colon])
        self.port = port
    }
}
