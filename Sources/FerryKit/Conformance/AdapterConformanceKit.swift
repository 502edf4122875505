import FerryCore
import FerryReplication
import Foundation
import Synchronization

/// The same checks for every adapter, built in or external (`ferry adapter test NAME`):
/// the descriptor, and for a source, what it discovers, how its disks read and, when it
/// claims change tracking, how its change stamps behave. Each check says why it failed, so
/// that the team writing an adapter knows what to fix.
public struct AdapterConformanceKit: Sendable {
    public var adapter: any Adapter
    public var configuration: AdapterConfiguration
    /// Only the checks that need no disk data (descriptor and discovery).
    public var structuralOnly: Bool
    /// At most this many disks are read, to keep the run short on many-disk sources.
    public var maximumDisks = 4
    /// How the kit may write to the disks, to see that change stamps follow writes; `nil`
    /// when it may not (the disks are not known to be scratch copies).
    public var diskChange: ConformanceDiskChange?
    /// Why the kit may not write, for the skipped check: how to allow it.
    public var diskChangeRefusal = "the kit writes to a disk only when allowed to, on scratch copies"

    public init(adapter: any Adapter, configuration: AdapterConfiguration, structuralOnly: Bool = false, diskChange: ConformanceDiskChange? = nil) {
        self.adapter = adapter
        self.configuration = configuration
        self.structuralOnly = structuralOnly
        self.diskChange = diskChange
    }

    /// The replication block size: reads across its boundaries are what the agent does.
    static let blockSize = UInt64(ReplicationProtocol.blockSize)

    public func run() async -> [ConformanceCheck] {
        var watch = PluginWatch(plugin: (adapter as? ExternalSourceAdapter)?.plugin ?? (adapter as? ExternalTargetAdapter)?.plugin)
        var checks = [checkDescriptor()]
        guard let source = adapter as? any SourceAdapter, adapter.descriptor.kind == .source else {
            checks.append(skip("discovery", "discovery well-formed", structural: true, because: "a target adapter: only its descriptor is checked"))
            return checks
        }
        var machines: [MachineFacts]?
        checks.append(await watch.run("discovery", "discovery well-formed", structural: true) {
            let (check, found) = await checkDiscovery(source)
            machines = found
            return check
        })
        if structuralOnly { return checks }
        let tracking = adapter.descriptor.capabilities.contains(.changeTracking) ? source as? any ChangeTrackingSource : nil
        var dataChecks: [(String, String)] = [
            ("disk-sizes", "disk sizes consistent"),
            ("reads-deterministic", "reads at the start, middle, end and across block boundaries deterministic"),
            ("allocated-ranges", "allocated ranges inside the disk and consistent with the data (holes read as zeros)"),
            ("concurrent-reads", "concurrent reads safe"),
            ("reads-past-end", "reads past the end refused"),
        ]
        if tracking != nil {
            dataChecks += [("change-stamp-stable", "change stamp unchanged while nothing is written"),
                           ("change-stamp-follows-writes", "change stamp changed by a write to the disk")]
        }
        guard let machines, checks.last?.outcome == .pass else {
            return checks + dataChecks.map { skip($0.0, $0.1, structural: false, because: "discovery failed") }
        }
        let disks = Array(machines.flatMap(\.disks).prefix(maximumDisks))
        var opened: [(DiskFacts, any BlockReader)] = []
        let (sizeID, sizeTitle) = dataChecks[0]
        checks.append(await watch.run(sizeID, sizeTitle, structural: false) {
            var sizeProblems: [String] = []
            for disk in disks {
                do {
                    let configuration = self.configuration
                    let reader = try await BlockingWork.run { try source.openDisk(disk, configuration: configuration) }
                    if reader.size != disk.sizeBytes {
                        sizeProblems.append("\(disk.name): discovered with \(disk.sizeBytes) bytes, opens with \(reader.size)")
                    } else {
                        opened.append((disk, reader))
                    }
                } catch {
                    sizeProblems.append("\(disk.name): cannot be opened: \(error)")
                }
            }
            return sizeProblems.isEmpty
                ? pass(sizeID, sizeTitle, structural: false, opened.map { "\($0.0.name) \($0.1.size) bytes" }.joined(separator: ", "))
                : fail(sizeID, sizeTitle, structural: false, sizeProblems.joined(separator: "; "))
        })
        // Each check reads the disk, sleeps or runs threads of its own: on a thread of its own.
        var perDisk: [(String, String, @Sendable (DiskFacts, any BlockReader) throws -> String)] = [
            (dataChecks[1].0, dataChecks[1].1, { try Self.checkDeterministicReads($1) }),
            (dataChecks[2].0, dataChecks[2].1, { try Self.checkAllocatedRanges($1) }),
            (dataChecks[3].0, dataChecks[3].1, { try Self.checkConcurrentReads($1) }),
            (dataChecks[4].0, dataChecks[4].1, { try Self.checkReadsPastEnd($1) }),
        ]
        if let tracking {
            let configuration = self.configuration
            perDisk.append((dataChecks[5].0, dataChecks[5].1, { disk, reader in try Self.checkStampStable(tracking, disk, reader, configuration: configuration) }))
            if let diskChange {
                perDisk.append((dataChecks[6].0, dataChecks[6].1, { disk, _ in try Self.checkStampFollowsWrites(tracking, disk, diskChange, configuration: configuration) }))
            }
        }
        for (id, title, check) in perDisk {
            guard !opened.isEmpty else {
                checks.append(skip(id, title, structural: false, because: "no disk could be opened"))
                continue
            }
            checks.append(await watch.run(id, title, structural: false) {
                var details: [String] = []
                var failures: [String] = []
                for (disk, reader) in opened {
                    do {
                        details.append("\(disk.name): \(try await BlockingWork.run { try check(disk, reader) })")
                    } catch {
                        failures.append("\(disk.name): \(error)")
                    }
                }
                return failures.isEmpty ? pass(id, title, structural: false, details.joined(separator: "; "))
                                        : fail(id, title, structural: false, failures.joined(separator: "; "))
            })
        }
        if tracking != nil, diskChange == nil {
            checks.append(skip(dataChecks[6].0, dataChecks[6].1, structural: false, because: diskChangeRefusal))
        }
        return checks
    }

    /// The plugin of an external adapter, watched across checks: a check during which its
    /// process had to be restarted fails, saying so, and once the plugin is no longer used
    /// the checks after are skipped, saying where it stopped, rather than failed by a plugin
    /// that was never asked.
    struct PluginWatch {
        let plugin: ExternalPlugin?
        var stoppedAt: (check: String, reason: PluginError)?

        mutating func run(_ id: String, _ title: String, structural: Bool, _ body: () async -> ConformanceCheck) async -> ConformanceCheck {
            if let (check, reason) = stoppedAt {
                return ConformanceCheck(id: id, title: title, outcome: .skip,
                                        detail: "skipped: the plugin stopped at check '\(check)' and is not asked again (it \(reason.reasonText))",
                                        isStructural: structural)
            }
            guard let plugin else { return await body() }
            let restartsBefore = plugin.restartCount
            var check = await body()
            let restarts = plugin.restartCount - restartsBefore
            let stopped = plugin.stoppedReason
            // A check that failed with Ferry giving up already says all of it.
            if restarts > 0, !(check.outcome == .fail && stopped != nil) {
                var causes: [(text: String, count: Int)] = []
                for cause in plugin.recentRestarts.suffix(restarts).map(\.after.reasonText) {
                    if causes.last?.text == cause { causes[causes.count - 1].count += 1 } else { causes.append((cause, 1)) }
                }
                let said = causes.map { $0.count == 1 ? $0.text : "\($0.text) (\($0.count) times)" }.joined(separator: "; then ")
                let after = check.outcome == .pass ? "the check then passed: " : ""
                check.outcome = .fail
                check.detail = "during this check its process \(said), and Ferry started it again; \(after)\(check.detail)"
            }
            if let stopped { stoppedAt = (id, stopped) }
            return check
        }
    }

    // MARK: - Descriptor

    func checkDescriptor() -> ConformanceCheck {
        let d = adapter.descriptor
        var problems: [String] = []
        if !AdapterNames.isValid(d.name) { problems.append("name \(d.name.debugDescription) is not lowercase letters, digits and dashes starting with a letter") }
        if d.version.isEmpty { problems.append("no version") }
        if d.summary.isEmpty { problems.append("no summary") }
        if d.capabilities.isEmpty { problems.append("no capabilities") }
        if Set(d.capabilities).count != d.capabilities.count { problems.append("a capability is listed twice") }
        for capability in d.capabilities {
            if capability.kind != d.kind {
                problems.append("'\(capability.rawValue)' is a \(capability.kind.rawValue) capability on a \(d.kind.rawValue) adapter")
            } else if !AdapterRegistry.conforms(adapter, to: capability) {
                problems.append("declares '\(capability.rawValue)' but does not implement \(capability.protocolName)")
            }
        }
        if d.kind == .source {
            for required in [Capability.discovery, .blockRead] where !d.capabilities.contains(required) {
                problems.append("a source adapter must declare '\(required.rawValue)'")
            }
        }
        var names: Set<String> = []
        for option in d.options {
            if !names.insert(option.name).inserted { problems.append("option '\(option.name)' is described twice") }
            if !AdapterNames.isValid(option.name) { problems.append("option name \(option.name.debugDescription) is not valid") }
            if option.help.isEmpty { problems.append("option '\(option.name)' has no help") }
            if case .choice(let values) = option.type, values.isEmpty { problems.append("choice option '\(option.name)' has no choices") }
            if let value = option.defaultValue, !option.type.accepts(value) { problems.append("option '\(option.name)': default \(value.debugDescription) is not \(option.type)") }
            if option.isRequired && option.defaultValue != nil { problems.append("option '\(option.name)' is required but has a default") }
        }
        if case .unavailable(let reason) = d.availability { problems.append("not available: \(reason)") }
        let title = "descriptor valid"
        guard problems.isEmpty else { return fail("descriptor", title, structural: true, problems.joined(separator: "; ")) }
        return pass("descriptor", title, structural: true,
                    "\(d.name) \(d.version), \(d.kind.rawValue), capabilities \(d.capabilities.map(\.rawValue).joined(separator: ",")), \(d.options.count) option\(d.options.count == 1 ? "" : "s")")
    }

    // MARK: - Discovery

    func checkDiscovery(_ source: any SourceAdapter) async -> (ConformanceCheck, [MachineFacts]?) {
        let title = "discovery well-formed"
        let machines: [MachineFacts]
        do {
            machines = try await source.discoverMachines(configuration: configuration)
        } catch {
            return (fail("discovery", title, structural: true, "discovery failed: \(error)"), nil)
        }
        var problems: [String] = []
        if machines.isEmpty { problems.append("no machine found with these options") }
        for (index, machine) in machines.enumerated() {
            let label = machine.hostname.isEmpty ? "machine \(index)" : machine.hostname
            if machine.hostname.isEmpty { problems.append("machine \(index) has no hostname") }
            if !["linux", "windows", "unknown"].contains(machine.operatingSystem.family) {
                problems.append("\(label): operating system family \(machine.operatingSystem.family.debugDescription) is not linux, windows or unknown")
            }
            if machine.cpuCount < 0 { problems.append("\(label): negative CPU count") }
            if machine.disks.isEmpty { problems.append("\(label) has no disks") }
            if Set(machine.disks.map(\.name)).count != machine.disks.count { problems.append("\(label): disk names are not unique") }
            if machine.disks.filter(\.isBoot).count > 1 { problems.append("\(label): more than one boot disk") }
            for disk in machine.disks {
                if disk.name.isEmpty { problems.append("\(label): a disk has no name") }
                if disk.sizeBytes == 0 { problems.append("\(label): disk '\(disk.name)' has size 0") }
                if disk.locator.isEmpty { problems.append("\(label): disk '\(disk.name)' has no locator") }
            }
        }
        guard problems.isEmpty else { return (fail("discovery", title, structural: true, problems.joined(separator: "; ")), machines) }
        let summary = machines.map { m in "\(m.hostname) (\(m.disks.map { "\($0.name) \($0.sizeBytes) bytes" }.joined(separator: ", ")))" }
        return (pass("discovery", title, structural: true, "\(machines.count) machine\(machines.count == 1 ? "" : "s"): \(summary.joined(separator: "; "))"), machines)
    }

    // MARK: - Reads

    struct Violation: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// The regions read: the start, the middle, the end, across the first block boundary,
    /// unaligned, and one read longer than a plugin's largest piece.
    static func sampleRegions(size: UInt64) -> [ByteRange] {
        let sample = min(64 << 10, size)
        var regions = [ByteRange(offset: 0, length: sample),
                       ByteRange(offset: (size / 2) & ~4095, length: min(sample, size - (size / 2) & ~4095)),
                       ByteRange(offset: size - sample, length: sample)]
        if size >= blockSize + 4096 { regions.append(ByteRange(offset: blockSize - 4096, length: 8192)) }
        if size > 1001 { regions.append(ByteRange(offset: 1, length: 1000)) }
        let large = UInt64(ExternalBlockReader.maximumReadLength) + (1 << 20)
        if size >= large { regions.append(ByteRange(offset: 0, length: large)) }
        return regions
    }

    static func checkDeterministicReads(_ reader: any BlockReader) throws -> String {
        var bytes: UInt64 = 0
        for region in sampleRegions(size: reader.size) {
            let first = try reader.read(at: region.offset, count: Int(region.length))
            let second = try reader.read(at: region.offset, count: Int(region.length))
            guard first == second else { throw Violation("two reads of \(region) gave different bytes") }
            // The same bytes read in two halves: a reader must not depend on how it is asked.
            let half = Int(region.length / 2)
            let pieces = try reader.read(at: region.offset, count: half) + reader.read(at: region.offset + UInt64(half), count: Int(region.length) - half)
            guard pieces == first else { throw Violation("\(region) read at once differs from the same bytes read in two halves") }
            bytes += region.length
        }
        return "\(sampleRegions(size: reader.size).count) regions (\(bytes) bytes) read alike 3 ways"
    }

    static func checkReadsPastEnd(_ reader: any BlockReader) throws -> String {
        let size = reader.size
        for (offset, count) in [(size - 1, 2), (size, 1), (UInt64.max - 1, 4)] {
            do {
                _ = try reader.read(at: offset, count: count)
                throw Violation("a read of \(count) bytes at \(offset) on a disk of \(size) bytes returned data")
            } catch is Violation {
                throw Violation("a read of \(count) bytes at \(offset) on a disk of \(size) bytes returned data")
            } catch {
                continue
            }
        }
        var detail = "refused at \(size - 1)+2, \(size)+1 and near 2^64"
        if let external = reader as? ExternalBlockReader {
            detail = "Ferry refuses such reads before asking the plugin"
            // Ferry never forwards such a read; ask the plugin itself.
            var buffer = [UInt8](repeating: 0, count: 2)
            do {
                try buffer.withUnsafeMutableBytes { try external.readPiece(into: $0, at: size - 1) }
                throw Violation("the plugin answered source.read of 2 bytes at \(size - 1) with data instead of OutOfBounds")
            } catch let error as PluginError where error.remoteCode == PluginErrorCode.outOfBounds {
                detail += "; the plugin itself refuses with OutOfBounds"
            } catch let error as PluginError {
                throw Violation("the plugin answered source.read past the end with something other than OutOfBounds (-32002): \(error.reasonText)")
            }
        }
        return detail
    }

    static func checkAllocatedRanges(_ reader: any BlockReader) throws -> String {
        let size = reader.size
        let ranges = try reader.allocatedRanges().filter { $0.length > 0 }
        var end: UInt64 = 0
        for range in ranges {
            guard range.offset >= end else { throw Violation("range \(range) is out of order or overlaps the one before") }
            guard !range.offset.addingReportingOverflow(range.length).overflow, range.end <= size else {
                throw Violation("range \(range) reaches past the end of the disk (\(size) bytes)")
            }
            end = range.end
        }
        var holes: [ByteRange] = []
        var position: UInt64 = 0
        for range in ranges + [ByteRange(offset: size, length: 0)] {
            if range.offset > position { holes.append(ByteRange(offset: position, length: range.offset - position)) }
            position = max(position, range.end)
        }
        // Holes must read as zeros: sample the start and end of up to 32 of them, spread out.
        let stride = max(1, holes.count / 32)
        var sampled = 0
        for hole in Swift.stride(from: 0, to: holes.count, by: stride).map({ holes[$0] }) {
            let length = min(hole.length, 64 << 10)
            for offset in Set([hole.offset, hole.end - length]) {
                let bytes = try reader.read(at: offset, count: Int(length))
                if let index = bytes.firstIndex(where: { $0 != 0 }) {
                    throw Violation("byte \(offset + UInt64(index)) is outside every allocated range but reads as \(bytes[index]), not 0")
                }
                sampled += 1
            }
        }
        // Every range must be readable: sample the start of up to 32 of them.
        let rangeStride = max(1, ranges.count / 32)
        for range in Swift.stride(from: 0, to: ranges.count, by: rangeStride).map({ ranges[$0] }) {
            _ = try reader.read(at: range.offset, count: Int(min(range.length, 64 << 10)))
        }
        let allocated = ranges.reduce(0) { $0 + $1.length }
        return "\(ranges.count) range\(ranges.count == 1 ? "" : "s") (\(allocated) of \(size) bytes); \(sampled) hole samples read as zeros"
    }

    static func checkConcurrentReads(_ reader: any BlockReader) throws -> String {
        let size = reader.size
        let length = Int(min(16 << 10, size))
        let count = 32
        let offsets = (0..<count).map { i in min((size / UInt64(count) * UInt64(i)) & ~4095, size - UInt64(length)) }
        let expected = try offsets.map { try reader.read(at: $0, count: length) }
        let threads = 8
        let results = ConcurrentResults(count: threads)
        // Threads of their own: a dispatch queue on a 2-core machine may run its work one
        // item after another, and this check is about reads asked at the same time.
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            Thread {
                var mismatches = 0
                var failure: String?
                for step in 0..<count {
                    let i = (step * 5 + thread * 7) % count
                    do {
                        if try reader.read(at: offsets[i], count: length) != expected[i] { mismatches += 1 }
                    } catch {
                        failure = String(describing: error)
                    }
                }
                results.set(thread, mismatches: mismatches, failure: failure)
                group.leave()
            }.start()
        }
        group.wait()
        if let failure = results.firstFailure { throw Violation("a concurrent read failed: \(failure)") }
        let mismatches = results.totalMismatches
        guard mismatches == 0 else { throw Violation("\(mismatches) of \(threads * count) concurrent reads returned other bytes than the same reads made one at a time") }
        var note = ""
        if let external = reader as? ExternalBlockReader {
            let processes = external.plugin.parallelProcesses
            note = processes == 1 ? " (one plugin process: Ferry sends it one request at a time)" : " (through up to \(processes) plugin processes)"
        }
        return "\(threads) threads × \(count) reads matched the serial reads\(note)"
    }

    // MARK: - Change stamps

    /// The stamp must hold still while nothing writes: taken before and after reading the
    /// sample regions (reading is what the agent does between stamps), and once more a
    /// moment later (the agent asks about five times a second while it waits). A stamp
    /// that moves by itself makes continuous replication re-read the disk without end.
    static func checkStampStable(_ source: any ChangeTrackingSource, _ disk: DiskFacts, _ reader: any BlockReader, configuration: AdapterConfiguration) throws -> String {
        let first = try source.changeStamp(of: disk, configuration: configuration)
        for region in sampleRegions(size: reader.size) { _ = try reader.read(at: region.offset, count: Int(region.length)) }
        let afterReads = try source.changeStamp(of: disk, configuration: configuration)
        Thread.sleep(forTimeInterval: 0.25)
        let later = try source.changeStamp(of: disk, configuration: configuration)
        for (when, stamp) in [("after reads of the disk", afterReads), ("a quarter of a second later", later)] where stamp != first {
            throw Violation("the stamp changed although nothing was written: \(first.value.debugDescription), then \(stamp.value.debugDescription) \(when)")
        }
        return "\(first.value.debugDescription) three times, before and after reads"
    }

    /// The stamp must change when the disk is written, as `change` writes it.
    static func checkStampFollowsWrites(_ source: any ChangeTrackingSource, _ disk: DiskFacts, _ change: ConformanceDiskChange, configuration: AdapterConfiguration) throws -> String {
        let before = try source.changeStamp(of: disk, configuration: configuration)
        let written = try change.apply(disk)
        let after = try source.changeStamp(of: disk, configuration: configuration)
        guard after != before else {
            throw Violation("the stamp stayed \(before.value.debugDescription) after a write to the disk (\(written))")
        }
        return "\(before.value.debugDescription), then \(after.value.debugDescription) after \(written)"
    }

    // MARK: - Outcomes

    private func pass(_ id: String, _ title: String, structural: Bool, _ detail: String) -> ConformanceCheck {
        ConformanceCheck(id: id, title: title, outcome: .pass, detail: detail, isStructural: structural)
    }

    private func fail(_ id: String, _ title: String, structural: Bool, _ detail: String) -> ConformanceCheck {
        ConformanceCheck(id: id, title: title, outcome: .fail, detail: detail, isStructural: structural)
    }

    private func skip(_ id: String, _ title: String, structural: Bool, because detail: String) -> ConformanceCheck {
        ConformanceCheck(id: id, title: title, outcome: .skip, detail: detail, isStructural: structural)
    }
}

/// What each thread of the concurrent-reads check found.
private final class ConcurrentResults: Sendable {
    private let results: Mutex<(mismatches: [Int], failures: [String?])>

    init(count: Int) {
        results = Mutex((Array(repeating: 0, count: count), Array(repeating: nil, count: count)))
    }

    func set(_ index: Int, mismatches: Int, failure: String?) {
        results.withLock {
            $0.mismatches[index] = mismatches
            $0.failures[index] = failure
        }
    }

    var totalMismatches: Int { results.withLock { $0.mismatches.reduce(0, +) } }
    var firstFailure: String? { results.withLock { $0.failures.compactMap { $0 }.first } }
}
