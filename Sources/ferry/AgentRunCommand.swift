import ArgumentParser
import FerryCore
import FerryReplication
import FerryKit
import Foundation
import PhysicalSource
#if canImport(Glibc)
import Glibc
#endif

struct AgentRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replicate disks from this machine to a replication server, block by block: its own, image files or block devices (--disk), or an adapter's machine (--adapter)."
    )

    @Option(help: ArgumentHelp("The replication server.", valueName: "host:port"))
    var server: String

    @Option(help: "The project's agent token (see `ferry agent token`). Prefer FERRY_AGENT_TOKEN: a command line is visible in `ps`.")
    var token: String?

    @Option(help: ArgumentHelp("The replication server's certificate pin, as `ferry agent token` prints it (default: this workspace's own).", valueName: "sha256//…"))
    var pin: String?

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

    enum WriteTrackingChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, rescan
    }

    @Option(help: "With --continuous and block devices (--disk /dev/…): auto follows their writes with the kernel's block layer trace and freezes their mounted file systems to close points in time (root, debugfs); with --hypervisor-monitor, QEMU's dirty bitmaps; rescan reads every block each pass. Other image files and adapters always rescan.")
    var writeTracking: WriteTrackingChoice = .auto

    @Option(help: ArgumentHelp("With --continuous and image files (--disk): the QMP socket of the QEMU process that runs them. QEMU's dirty bitmaps then track their writes, they are read through QEMU's NBD server, and each point in time is an image fleecing (the guest never pauses).", valueName: "socket"))
    var hypervisorMonitor: String?

    @Option(help: ArgumentHelp("With --hypervisor-monitor, when that QEMU already runs an NBD server: its Unix socket (else the agent starts one).", valueName: "socket"))
    var hypervisorNbd: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let endpoint = try ReplicationEndpoint(parsing: server, option: "--server")
        guard let tokenText = token ?? ProcessInfo.processInfo.environment["FERRY_AGENT_TOKEN"], !tokenText.isEmpty else {
            throw ValidationError("the agent needs the project's token: set FERRY_AGENT_TOKEN (or --token TOKEN, which `ps` shows to every user; see `ferry agent token` on the workbench)")
        }
        if adapter == nil && !options.isEmpty { throw ValidationError("--option needs --adapter") }
        guard attempts >= 1 else { throw ValidationError("--attempts must be 1 or more, not \(attempts)") }
        if adapter != nil && !disks.isEmpty { throw ValidationError("--disk and --adapter cannot be used together") }
        let machine: AgentMachine
        if let adapter {
            let source = try InstalledAdapters.source(named: adapter, workspaceRoot: global.workspaceURL)
            machine = try await AgentMachine.discover(through: source, configuration: try AdapterConfiguration(try OptionPairs.parse(options), for: source.descriptor), hostname: hostname)
        } else {
            let physical = BuiltInAdapters.physical()
            machine = try await AgentMachine.local(through: physical, configuration: try AdapterConfiguration(["local": "true"], for: physical.descriptor), paths: disks, hostname: hostname)
        }
        for disk in machine.disks {
            FileHandle.standardError.write(Data("Disk to replicate identified: \(disk.facts.name) of size \(Output.bytes(disk.facts.sizeBytes))\n".utf8))
        }
        let trusted = try serverPin()
        var configuration = ReplicationAgent.Configuration(
            host: endpoint.host, port: endpoint.port, token: Secret(tokenText), pin: trusted, identity: identity ?? machine.identity,
            facts: machine.facts, disks: machine.disks, continuous: continuous,
            interval: .milliseconds(Int(interval * 1000)),
            throttleBytesPerSecond: throttleMbps.map { $0 * 1_000_000 / 8 }, compress: compress, attempts: attempts
        )
        if hypervisorNbd != nil && hypervisorMonitor == nil { throw ValidationError("--hypervisor-nbd goes with --hypervisor-monitor") }
        if let hypervisorMonitor {
            guard continuous, adapter == nil, !disks.isEmpty else {
                throw ValidationError("--hypervisor-monitor follows the image files given with --disk, with --continuous")
            }
            if writeTracking == .auto {
                do {
                    let (tracking, readers) = try QEMUWriteTracking.attach(monitor: hypervisorMonitor, nbdServer: hypervisorNbd, disks: disks)
                    for index in configuration.disks.indices { configuration.disks[index].reader = readers[index] }
                    configuration.tracking = tracking
                    FileHandle.standardError.write(Data("Following writes with \(tracking.description)\n".utf8))
                } catch {
                    FileHandle.standardError.write(Data("Every pass reads every block of the image files from outside QEMU: \(error)\n".utf8))
                }
            }
        } else if continuous, writeTracking == .auto, adapter == nil, !disks.isEmpty, disks.allSatisfy(Self.isBlockDevice) {
            do {
                configuration.tracking = try WriteTracking.linux(disks: disks)
                FileHandle.standardError.write(Data("Following writes with \(configuration.tracking!.description)\n".utf8))
            } catch {
                FileHandle.standardError.write(Data("Every pass reads every block: \(error)\n".utf8))
            }
        }
        let agent = ReplicationAgent(configuration: configuration)
        let printer = AgentProgressPrinter(json: global.output == .json)
        // Only a lost connection is retried; a failing source (a plugin Ferry gave up on,
        // a disk that cannot be read) ends the run with its own error.
        try await agent.run { printer.show($0) }
    }

    static func isBlockDevice(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFBLK
    }

    /// --pin, or the certificate of this machine's workspace when the server runs here.
    private func serverPin() throws -> CertificatePin {
        if let pin { return try CertificatePin(parsing: pin) }
        let certificate = ReplicationCertificate(workspace: try global.openWorkspace())
        guard FileManager.default.fileExists(atPath: certificate.directory.path) else {
            throw ValidationError("the agent needs the replication server's certificate pin: give --pin (`ferry agent token` on the workbench prints it)")
        }
        return try certificate.pin()
    }
}

