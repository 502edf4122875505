import Foundation
import Testing
import FerryCore
@testable import FerryKit
import FerryTestSupport
import Synchronization

/// External source adapters through the proxy: a good plugin reads exactly like the file it
/// serves, and every kind of bad plugin gives an error that names it, quickly.
@Suite("external source adapters", .serialized)
struct ExternalSourceAdapterTests {
    let directory: URL
    let image: String
    let size: UInt64 = 3 << 20
    let regions = [ByteRange(offset: 0, length: 70_000), ByteRange(offset: 1 << 20, length: 600_000)]
    /// Short, so that the hanging plugin costs a second, not thirty.
    let timeouts = PluginTimeouts(describe: 5, call: 1)

    init() throws {
        directory = try FixturePlugin.temporaryDirectory()
        image = directory.appendingPathComponent("web1.raw").path
        try FixturePlugin.writeImage(image, size: size, regions: regions)
    }

    /// Loads `behaviour` as plugin `name` and returns its proxy, already discovered.
    func source(_ behaviour: FixturePlugin.Behaviour, name: String = "fixture") async throws -> (ExternalSourceAdapter, AdapterConfiguration, DiskFacts) {
        let path = try FixturePlugin.write(behaviour, name: name, in: directory.appendingPathComponent(behaviour.rawValue))
        let adapter = ExternalSourceAdapter(plugin: try ExternalPlugin.load(path: path, name: name, timeouts: timeouts))
        let configuration = try AdapterConfiguration(["path": image], for: adapter.descriptor)
        let disk = try #require(try await adapter.discoverMachines(configuration: configuration).first?.disks.first)
        return (adapter, configuration, disk)
    }

    @Test func aGoodPluginReadsExactlyTheFileItServes() async throws {
        let (adapter, configuration, disk) = try await source(.good)
        #expect(adapter.descriptor.name == "fixture")
        #expect(adapter.descriptor.options.map(\.name) == ["path"])
        #expect(disk.sizeBytes == size)
        let reader = try adapter.openDisk(disk, configuration: configuration)
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: image)))
        // One read larger than a plugin's largest piece, so that it is split.
        #expect(try reader.read(at: 0, count: Int(size)) == expected)
        #expect(try reader.read(at: 1_048_000, count: 1000) == Array(expected[1_048_000..<1_049_000]))
        #expect(try reader.allocatedRanges() == [ByteRange(offset: 0, length: size)])
        #expect(throws: BlockReaderError.self) { try reader.read(at: size - 1, count: 2) }
    }

    @Test func aPluginThatAllowsSeveralProcessesReadsInParallelAndAlike() async throws {
        let (adapter, configuration, disk) = try await source(.parallel)
        #expect(adapter.plugin.parallelProcesses == 3)
        let reader = try adapter.openDisk(disk, configuration: configuration)
        let checks = await AdapterConformanceKit(adapter: adapter, configuration: configuration).run()
        #expect(checks.allSatisfy { $0.outcome == .pass }, "\(checks.filter { $0.outcome != .pass })")
        try? FileManager.default.removeItem(atPath: image + ".pids")
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: image)))
        // Threads of their own, not a dispatch queue: a queue on 2 cores may run the reads
        // one after another, and the test is about reads that are asked at the same time.
        let group = DispatchGroup()
        let mismatches = Counter()
        for thread in 0..<6 {
            group.enter()
            Thread {
                for index in [thread * 2, thread * 2 + 1] {
                    let offset = UInt64(index) * 200_000
                    if (try? reader.read(at: offset, count: 100_000)) != Array(expected[Int(offset)..<Int(offset) + 100_000]) { mismatches.add() }
                }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(mismatches.value == 0)
        // Each read notes its process and when it ran: reads of two processes overlapped.
        let reads = try String(contentsOfFile: image + ".pids", encoding: .utf8).split(separator: "\n").map { line in
            let fields = line.split(separator: " ")
            return (pid: String(fields[0]), start: Double(fields[1])!, end: Double(fields[2])!)
        }
        #expect((2...3).contains(Set(reads.map(\.pid)).count), "reads were served by \(Set(reads.map(\.pid)).count) processes")
        let overlapped = reads.contains { a in reads.contains { b in a.pid != b.pid && a.start < b.end && b.start < a.end } }
        #expect(overlapped, "no two reads of different processes ran at the same time")
    }

    @Test func aPluginThatKeepsCrashingIsNamedWithItsExitStatusAndLastWords() async throws {
        let (adapter, configuration, disk) = try await source(.crashOnRead)
        let reader = try adapter.openDisk(disk, configuration: configuration)
        let error = try #require(throws: PluginError.self) { try reader.read(at: 0, count: 4096) }
        #expect(error.plugin == "fixture")
        #expect(error.method == "source.read")
        #expect(error.reason == .gaveUp(restarts: 3, window: 600, last: "exited (exit status 3) during source.read"))
        #expect(error.description.contains("segmentation fault (simulated)"))
        #expect(error.description.contains(adapter.plugin.path))
        #expect(adapter.plugin.stoppedReason?.reason == error.reason)
        // Ferry does not talk to it again, and says the same each time.
        let again = try #require(throws: PluginError.self) { try reader.read(at: 0, count: 4096) }
        #expect(again.reason == error.reason)
    }

    @Test func aPluginThatHangsTimesOutAndIsStopped() async throws {
        let path = try FixturePlugin.write(.hangOnDiscover, name: "fixture", in: directory.appendingPathComponent("hang"))
        let adapter = ExternalSourceAdapter(plugin: try ExternalPlugin.load(path: path, name: "fixture", timeouts: timeouts))
        let configuration = try AdapterConfiguration(["path": image], for: adapter.descriptor)
        let start = Date()
        let error = try await #require(throws: PluginError.self) { try await adapter.discoverMachines(configuration: configuration) }
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(error.reason == .timedOut(seconds: 1))
        #expect(error.description.contains("gave no answer during source.discover within 1 s"))
        // The hung process is replaced, not trusted less: the next call gets a new one.
        #expect(adapter.plugin.restartCount == 1)
        #expect(adapter.plugin.stoppedReason == nil)
    }

    @Test(arguments: [
        (FixturePlugin.Behaviour.shortRead, "sent 4095 bytes for a read of 4096 bytes"),
        (.wrongLengthField, "says 4097 bytes for a read of 4096 bytes"),
    ])
    func aPluginWhoseReadsContradictThemselvesIsRefused(behaviour: FixturePlugin.Behaviour, expected: String) async throws {
        let (adapter, configuration, disk) = try await source(behaviour)
        let reader = try adapter.openDisk(disk, configuration: configuration)
        var buffer = [UInt8](repeating: 0xAA, count: 4096)
        let error = try #require(throws: PluginError.self) { try buffer.withUnsafeMutableBytes { try reader.read(into: $0, at: 0) } }
        guard case .inconsistent(let what) = error.reason else { Issue.record("expected inconsistent, got \(error)"); return }
        #expect(what.contains(expected), "\(what)")
        #expect(error.description.contains("adapter 'fixture'"))
        // A plugin that contradicted itself is not asked again in this run.
        let again = try #require(throws: PluginError.self) { try buffer.withUnsafeMutableBytes { try reader.read(into: $0, at: 0) } }
        guard case .stopped = again.reason else { Issue.record("expected stopped, got \(again)"); return }
        await #expect(throws: PluginError.self) { try await adapter.discoverMachines(configuration: configuration) }
    }

    @Test(arguments: [FixturePlugin.Behaviour.rangesPastEnd, .rangesOverflow])
    func rangesPastTheEndAreRefused(behaviour: FixturePlugin.Behaviour) async throws {
        let (adapter, configuration, disk) = try await source(behaviour)
        let reader = try adapter.openDisk(disk, configuration: configuration)
        let error = try #require(throws: PluginError.self) { try reader.allocatedRanges() }
        #expect(error.description.contains("reaches past the end of the disk"))
    }

    @Test func stoppingAPluginStopsTheProcessesItStarted() async throws {
        let path = try FixturePlugin.write(.hangWithHelper, name: "fixture", in: directory.appendingPathComponent("helper"))
        let adapter = ExternalSourceAdapter(plugin: try ExternalPlugin.load(path: path, name: "fixture", timeouts: timeouts))
        let configuration = try AdapterConfiguration(["path": image], for: adapter.descriptor)
        await #expect(throws: PluginError.self) { try await adapter.discoverMachines(configuration: configuration) }
        let helper = try #require(pid_t(try String(contentsOfFile: image + ".helper", encoding: .utf8)))
        // Gone, or a zombie waiting for a parent that reaps (this container's pid 1 may not).
        let deadline = Date().addingTimeInterval(5)
        var state = "?"
        repeat {
            let stat = (try? String(contentsOfFile: "/proc/\(helper)/stat", encoding: .utf8)) ?? ""
            state = stat.split(separator: ")").last?.split(separator: " ").first.map(String.init) ?? "gone"
            if state == "gone" || state == "Z" { break }
            usleep(50_000)
        } while Date() < deadline
        #expect(state == "gone" || state == "Z", "the plugin's helper \(helper) is still running (state \(state))")
    }

    @Test func aPluginThatCrashesTakesTheProcessesItStartedWithIt() async throws {
        // The helper keeps the plugin's stdout open: Ferry must see the crash anyway.
        let (adapter, configuration, disk) = try await FixturePlugin.load(.helperThenCrash, in: directory, image: image, timeouts: PluginTimeouts(describe: 5, call: 20))
        let reader = try adapter.openDisk(disk, configuration: configuration)
        let start = Date()
        _ = try? reader.read(at: 0, count: 4096)
        #expect(Date().timeIntervalSince(start) < 10, "the crash was noticed only at the call's deadline")
        let helper = try #require(pid_t(try String(contentsOfFile: image + ".helper", encoding: .utf8)))
        let (gone, state) = FixturePlugin.isGone(helper)
        #expect(gone, "the crashed plugin's helper \(helper) is still running (state \(state))")
    }

    @Test func aPluginThatExitsNormallyTakesTheProcessesItStartedWithIt() async throws {
        let (adapter, _, _) = try await FixturePlugin.load(.helperThenExit, in: directory, image: image, timeouts: timeouts)
        let helper = try #require(pid_t(try String(contentsOfFile: image + ".helper", encoding: .utf8)))
        adapter.plugin.shutdown()
        let (gone, state) = FixturePlugin.isGone(helper)
        #expect(gone, "the plugin's helper \(helper) outlived it (state \(state))")
    }

    @Test func aBrokenPluginsReasonEndsWithWhatItWroteOnStderr() throws {
        let folder = directory.appendingPathComponent("broken-stderr")
        try FixturePlugin.write(.exitsAtStart, name: "fixture", in: folder)
        var registry = AdapterRegistry()
        let inventory = PluginInventory.load(PluginSearchPath(directories: [folder]).candidates(), into: &registry, timeouts: timeouts)
        let broken = try #require(inventory.broken.first)
        #expect(broken.reason.contains("exited (exit status 2) during describe"), "\(broken.reason)")
        #expect(broken.reason.contains("cannot start: missing configuration"), "\(broken.reason)")
    }

    @Test func afterShutdownNoCallStarts() async throws {
        let (adapter, configuration, _) = try await source(.good)
        adapter.plugin.shutdown()
        let error = try await #require(throws: PluginError.self) { try await adapter.discoverMachines(configuration: configuration) }
        #expect(error.description.contains("it was shut down"))
    }

    @Test func aPluginStartsWithNoBlockedOrIgnoredSignals() async throws {
        // Started from a concurrency thread, whose signal mask blocks most signals: the mask
        // must not reach the plugin.
        let path = try FixturePlugin.write(.reportsSignals, name: "fixture", in: directory.appendingPathComponent("signals"))
        let adapter = ExternalSourceAdapter(plugin: try ExternalPlugin.load(path: path, name: "fixture", timeouts: timeouts))
        let configuration = try AdapterConfiguration(["path": image], for: adapter.descriptor)
        let hostname = try #require(try await adapter.discoverMachines(configuration: configuration).first?.hostname)
        let parts = hostname.split(separator: "-")
        let blocked = try #require(UInt64(parts[1], radix: 16))
        let ignored = try #require(UInt64(parts[3], radix: 16))
        #expect(blocked == 0, "\(hostname)")
        // Of the standard signals (1-31), Python ignores SIGPIPE and SIGXFSZ itself at
        // start-up; nothing else may be ignored.
        let python = UInt64(1) << (UInt64(SIGPIPE) - 1) | UInt64(1) << (UInt64(SIGXFSZ) - 1)
        #expect(ignored & 0x7fff_ffff & ~python == 0, "\(hostname)")
    }

    @Test func timeoutsFromTheEnvironmentAreBounded() {
        #expect(PluginTimeouts.fromEnvironment([:]) == PluginTimeouts(describe: 10, call: 30, targetCall: 600))
        #expect(PluginTimeouts.fromEnvironment(["FERRY_PLUGIN_TIMEOUT": "2.5"]) == PluginTimeouts(describe: 2.5, call: 2.5, targetCall: 2.5))
        #expect(PluginTimeouts.fromEnvironment(["FERRY_PLUGIN_TIMEOUT": "inf"]).call == PluginTimeouts.maximum)
        #expect(PluginTimeouts.fromEnvironment(["FERRY_PLUGIN_TIMEOUT": "-1"]) == PluginTimeouts())
        #expect(PluginTimeouts.fromEnvironment(["FERRY_PLUGIN_TIMEOUT": "nan"]) == PluginTimeouts())
        #expect(Deadline(seconds: .infinity).remainingMilliseconds > 0)
    }

    @Test func aDiskThatOpensWithAnotherSizeThanDiscoveredIsRefused() async throws {
        let (adapter, configuration, disk) = try await source(.sizeMismatch)
        let error = try #require(throws: PluginError.self) { try adapter.openDisk(disk, configuration: configuration) }
        #expect(error.description.contains("discovered with \(size) bytes but opens with \(size + 4096)"))
        await #expect(throws: PluginError.self) { try await adapter.discoverMachines(configuration: configuration) }
    }

    @Test(arguments: [
        (FixturePlugin.Behaviour.wrongVersion, "speaks plugin protocol version 2; this Ferry speaks 1"),
        (.refusesVersion, "speaks none of the plugin protocol versions this Ferry speaks (1) (it speaks 2)"),
        (.garbage, "broke the plugin protocol during describe: it wrote \"Hello! I am a plugin"),
        (.exitsAtStart, "exited (exit status 2) during describe"),
        (.wrongName, "it calls itself \"someone-else\", but its executable is named for \"fixture\""),
    ])
    func aPluginWithABadHandshakeIsListedAsBrokenAndNeverLoaded(behaviour: FixturePlugin.Behaviour, expected: String) throws {
        let folder = directory.appendingPathComponent("broken-\(behaviour.rawValue)")
        try FixturePlugin.write(behaviour, name: "fixture", in: folder)
        var registry = AdapterRegistry()
        let inventory = PluginInventory.load(PluginSearchPath(directories: [folder]).candidates(), into: &registry, timeouts: timeouts)
        #expect(inventory.loaded.isEmpty)
        #expect(registry.all.isEmpty)
        let broken = try #require(inventory.broken.first)
        #expect(broken.name == "fixture")
        #expect(broken.reason.contains(expected), "\(broken.reason)")
    }

    @Test func theFirstPluginOfANameWinsAndBuiltInsCannotBeShadowed() throws {
        let first = directory.appendingPathComponent("first")
        let second = directory.appendingPathComponent("second")
        try FixturePlugin.write(.good, name: "fixture", in: first)
        try FixturePlugin.write(.good, name: "fixture", in: second)
        try FixturePlugin.write(.good, name: "physical", in: second)
        // The first of a name owns it even when it is broken.
        let third = directory.appendingPathComponent("third")
        try FixturePlugin.write(.wrongVersion, name: "owned", in: second)
        try FixturePlugin.write(.good, name: "owned", in: third)
        // Not executable: not a candidate at all.
        try "#!/bin/sh\n".write(toFile: second.appendingPathComponent("ferry-adapter-notes").path, atomically: true, encoding: .utf8)
        var registry = AdapterRegistry()
        try registry.register(StubSource(name: "physical"))
        let candidates = PluginSearchPath(directories: [first, second, third]).candidates()
        #expect(candidates.map(\.name) == ["fixture", "fixture", "owned", "physical", "owned"])
        let inventory = PluginInventory.load(candidates, into: &registry, timeouts: timeouts)
        #expect(inventory.loaded["fixture"]?.path == first.appendingPathComponent("ferry-adapter-fixture").path)
        #expect(Set(registry.all.map(\.descriptor.name)) == ["physical", "fixture"])
        let reasons = Dictionary(uniqueKeysWithValues: inventory.broken.map { ($0.path, $0.reason) })
        #expect(reasons[second.appendingPathComponent("ferry-adapter-fixture").path]?.contains("already taken by \(first.path)") == true)
        #expect(reasons[second.appendingPathComponent("ferry-adapter-physical").path]?.contains("already taken by a built-in adapter") == true)
        #expect(reasons[second.appendingPathComponent("ferry-adapter-owned").path]?.contains("speaks plugin protocol version 2") == true)
        #expect(reasons[third.appendingPathComponent("ferry-adapter-owned").path]?.contains("already taken by \(second.path)/ferry-adapter-owned") == true)
        // The registry hands the external adapter out like any other.
        #expect(try registry.source(named: "fixture").descriptor.summary == "test plugin (good)")
    }

    @Test func theSearchPathIsThePluginPathThenTheWorkspaceThenPATH() {
        let workspace = URL(fileURLWithPath: "/srv/project/.ferry")
        let path = PluginSearchPath.standard(workspaceRoot: workspace, environment: ["FERRY_PLUGIN_PATH": "/opt/a:/opt/b", "PATH": "/usr/bin:/bin"])
        #expect(path.directories.map(\.path) == ["/opt/a", "/opt/b", "/srv/project/.ferry/plugins", "/usr/bin", "/bin"])
    }

    // MARK: - The conformance kit catches what the proxy cannot

    func kit(_ behaviour: FixturePlugin.Behaviour) async throws -> [String: ConformanceCheck] {
        let (adapter, configuration, _) = try await source(behaviour)
        let checks = await AdapterConformanceKit(adapter: adapter, configuration: configuration).run()
        return Dictionary(uniqueKeysWithValues: checks.map { ($0.id, $0) })
    }

    @Test func theKitPassesAGoodPlugin() async throws {
        let checks = try await kit(.good)
        #expect(checks.values.allSatisfy { $0.outcome == .pass }, "\(checks.values.filter { $0.outcome != .pass })")
        #expect(checks["reads-past-end"]?.detail.contains("the plugin itself refuses with OutOfBounds") == true)
    }

    @Test(arguments: [
        (FixturePlugin.Behaviour.rangesHideData, "allocated-ranges", "is outside every allocated range but reads as"),
        (.nondeterministic, "reads-deterministic", "gave different bytes"),
        (.readsPastEnd, "reads-past-end", "with data instead of OutOfBounds"),
        (.sizeMismatch, "disk-sizes", "discovered with"),
    ])
    func theKitFailsAPluginThatBreaksARule(behaviour: FixturePlugin.Behaviour, check: String, expected: String) async throws {
        let checks = try await kit(behaviour)
        let result = try #require(checks[check])
        #expect(result.outcome == .fail)
        #expect(result.detail.contains(expected), "\(result.detail)")
        #expect(checks["descriptor"]?.outcome == .pass)
    }

    @Test func theKitChecksADescriptorAgainstItsRules() async throws {
        var stub = StubSource(name: "Bad_Name")
        stub.descriptor.version = ""
        stub.descriptor.options.append(AdapterOption(name: "disk", type: .choice([]), isRequired: true, help: ""))
        let check = AdapterConformanceKit(adapter: stub, configuration: try AdapterConfiguration(["disk": "x"], for: StubSource(name: "x").descriptor)).checkDescriptor()
        #expect(check.outcome == .fail)
        for problem in ["is not lowercase", "no version", "option 'disk' is described twice", "has no choices", "has no help"] {
            #expect(check.detail.contains(problem), "\(problem) in \(check.detail)")
        }
    }
}

/// A count shared by threads.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
