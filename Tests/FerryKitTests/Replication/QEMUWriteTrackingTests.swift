import FerryCore
@testable import FerryReplication
@testable import FerryKit
import Foundation
import FerryTestSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Agentless replication with the hypervisor's help, against a real QEMU block layer:
/// qemu-storage-daemon (QEMU's block layer without a machine, with the same QMP, dirty
/// bitmaps, backup jobs and NBD server as the sandbox's QEMU) holds a qcow2 drive; a writer
/// writes numbered records to it through QEMU as fast as it can while the agent follows its
/// dirty bitmap and closes points by image fleecing. Every point must hold a gap-free prefix
/// of the records. The same writer against the agentless agent as it was (it read the
/// qcow2 file from outside and rescanned every pass) mixes moments: that test shows the
/// check can fail.
@Suite("write tracking through QEMU (dirty bitmaps, image fleecing)", .serialized)
struct QEMUWriteTrackingTests {
    /// A qemu-storage-daemon with `disk` as node `disk0`, exported writable as `writer` on
    /// its NBD server, and a monitor for the agent.
    final class StorageDaemon: @unchecked Sendable {
        let directory: URL
        let disk: String
        let monitor: String
        let nbd: String
        private let pidFile: String

        /// `agentMonitors`: how many monitor sockets (`monitor`, then `monitor` + "2"…).
        init(in directory: URL, size: UInt64, agentMonitors: Int = 1) throws {
            self.directory = directory
            disk = directory.appendingPathComponent("disk.qcow2").path
            monitor = directory.appendingPathComponent("qmp.sock").path
            nbd = directory.appendingPathComponent("nbd.sock").path
            pidFile = directory.appendingPathComponent("qsd.pid").path
            let created = try HostTool.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", disk, "\(size)"])
            guard created.status == 0 else { throw TestFailure("qemu-img create: \(created.output)") }
            let started = try HostTool.run("/usr/bin/qemu-storage-daemon", [
                "--blockdev", "driver=file,filename=\(disk),node-name=file0",
                "--blockdev", "driver=qcow2,file=file0,node-name=disk0",
                "--nbd-server", "addr.type=unix,addr.path=\(nbd)",
                "--export", "type=nbd,id=writer,node-name=disk0,name=writer,writable=on",
                "--daemonize", "--pidfile", pidFile,
            ] + (1...agentMonitors).flatMap { n in
                ["--chardev", "socket,path=\(monitor)\(n == 1 ? "" : String(n)),server=on,wait=off,id=monitor\(n)", "--monitor", "chardev=monitor\(n)"]
            }, timeoutSeconds: 60)
            guard started.status == 0 else { throw TestFailure("qemu-storage-daemon: \(started.output)") }
        }

        func stop() {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                // SIGKILL: the drive is thrown away, and SIGTERM takes the daemon two seconds.
                kill(pid, SIGKILL)
                for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
            }
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Writes records 1… through QEMU (its NBD export), each write done before the next starts.
    final class NBDRecordWriter: @unchecked Sendable {
        private let connection: NBDConnection
        private let finished = Atomic<Bool>(false)
        private let count = Atomic<Int>(0)
        init(socket: String) throws { connection = try NBDConnection(socket: socket, export: "writer") }
        var done: Bool { finished.load(ordering: .acquiring) }
        var written: Int { count.load(ordering: .acquiring) }
        /// `pause`: microseconds between records (a slower writer spans more passes).
        func write(upTo last: Int, pause: UInt32 = 0) {
            for number in 1...last {
                if pause > 0 { usleep(pause) }
                do {
                    try connection.write(TrackedReplicationTests.record(number), at: TrackedReplicationTests.offset(of: number))
                } catch {
                    Issue.record("record \(number): \(error)")
                    break
                }
                count.store(number, ordering: .releasing)
                // As a guest's fsync would: QEMU writes its image's metadata out, so the
                // file read from outside holds the records too (else it shows none at all).
                if number % 16 == 0 { try? connection.flush() }
            }
            finished.store(true, ordering: .releasing)
        }
    }

    static var size: UInt64 { TrackedReplicationTests.regions * TrackedReplicationTests.regionSize }

    @Test(.timeLimit(.minutes(3)))
    func everyPointIsTheDriveAtOneInstantWhileTheGuestWritesOn() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let daemon = try StorageDaemon(in: fixture.directory, size: Self.size)
        defer { daemon.stop() }
        let (tracking, readers) = try QEMUWriteTracking.attach(monitor: daemon.monitor, nbdServer: daemon.nbd, disks: [daemon.disk])
        var configuration = try fixture.agent(disks: [], continuous: true, interval: .milliseconds(300)).configuration
        let facts = DiskFacts(name: daemon.disk, sizeBytes: Self.size, locator: daemon.disk)
        configuration.facts.disks = [facts]
        configuration.disks = [ReplicationAgent.Disk(facts: facts, reader: readers[0])]
        configuration.tracking = tracking
        #expect(tracking.description.contains("QEMU's dirty bitmap of \(daemon.disk)"), "\(tracking.description)")
        let agent = ReplicationAgent(configuration: configuration)
        let summaries = SummaryBox()
        let rescans = Mutex<[String]>([])
        let running = Task {
            try await agent.run { event in
                switch event {
                case .committed(let s): summaries.append(s)
                case .rescanning(let reason): rescans.withLock { $0.append(reason) }
                default: break
                }
            }
        }
        defer { running.cancel() }
        while summaries.all.isEmpty { try await Task.sleep(for: .milliseconds(50)) }

        let writer = try NBDRecordWriter(socket: daemon.nbd)
        let writing = Thread { writer.write(upTo: TrackedReplicationTests.capacity - 1) }
        let writeStarted = ContinuousClock.now
        writing.start()
        while !writer.done { try await Task.sleep(for: .milliseconds(50)) }
        print("written in \(writeStarted.duration(to: .now)); \(summaries.all.count) points so far")
        try await Task.sleep(for: .seconds(2.5))
        let afterWriting = summaries.all
        // Idle: nothing dirty, so nothing read and no new point.
        try await Task.sleep(for: .seconds(1.5))
        #expect(summaries.all.count == afterWriting.count, "an idle drive made new points: \(summaries.all.count - afterWriting.count)")

        #expect(rescans.withLock { $0 } == ["this connection begins"], "scans: \(rescans.withLock { $0 })")
        let trackingSaid = try fixture.workspace.sourceServers.list().first?.replicationMetrics.writeTracking ?? ""
        #expect(!trackingSaid.contains("failed"), "\(trackingSaid)")
        var counts: [Int] = []
        for summary in afterWriting {
            guard let disk = try? fixture.exported(summary.snapshotID) else { continue }
            let (count, problem) = TrackedReplicationTests.records(in: disk)
            #expect(problem == nil, "snapshot \(summary.snapshotID) of pass \(summary.pass): \(problem ?? "")")
            counts.append(count)
        }
        print("records written: \(writer.written); records in the points: \(counts)")
        #expect(counts.filter { $0 > 0 && $0 < TrackedReplicationTests.capacity - 1 }.count >= 2, "points taken while writing: \(counts)")
        #expect(counts == counts.sorted(), "points in time go forward: \(counts)")
        #expect(counts.last == TrackedReplicationTests.capacity - 1, "the last point holds every record: \(counts)")
    }

    /// The agentless agent as it was: the drive's image file read from outside QEMU, every
    /// block at every pass. The same writer, the same check: the points mix moments (a record
    /// read before the pass reached its region is missing while later ones are there).
    @Test(.timeLimit(.minutes(3)))
    func theFileReadFromOutsideAtEveryPassMixesMoments() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let daemon = try StorageDaemon(in: fixture.directory, size: Self.size)
        defer { daemon.stop() }
        let image = try #require(try DiskImageReaders().openImage(at: daemon.disk))
        var configuration = try fixture.agent(disks: [], continuous: true, interval: .milliseconds(100)).configuration
        let facts = DiskFacts(name: daemon.disk, sizeBytes: Self.size, locator: daemon.disk)
        configuration.facts.disks = [facts]
        configuration.disks = [ReplicationAgent.Disk(facts: facts, reader: image.reader)]
        let agent = ReplicationAgent(configuration: configuration)
        let summaries = SummaryBox()
        let running = Task { try await agent.run { event in if case .committed(let s) = event { summaries.append(s) } } }
        defer { running.cancel() }
        while summaries.all.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        let writer = try NBDRecordWriter(socket: daemon.nbd)
        let writing = Thread { writer.write(upTo: TrackedReplicationTests.capacity - 1, pause: 300) }
        writing.start()
        // Each pass checked as it is committed: retention keeps only the newest seven.
        var problems: [String] = []
        var counts: [Int] = []
        var checked = 0
        var finished = false
        while !finished {
            finished = writer.done
            for summary in summaries.all.dropFirst(checked) {
                checked += 1
                guard let disk = try? fixture.exported(summary.snapshotID) else { continue }
                let (count, problem) = TrackedReplicationTests.records(in: disk)
                counts.append(count)
                if let problem { problems.append("\(summary.snapshotID): \(problem)") }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        print("passes: \(summaries.all.count); records in them: \(counts); mixed: \(problems.count)\n\(problems.prefix(3).joined(separator: "\n"))")
        #expect(!problems.isEmpty, "every pass of the old design happened to be whole: \(summaries.all.count) passes")
    }

    /// An agent killed -9 leaves its NBD server, exports and bitmaps in QEMU; the next one
    /// removes them and tracks on (its first take sees only writes made after it attached).
    @Test func whatAKilledAgentLeftInQEMUIsRemovedByTheNext() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-qemu-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try StorageDaemon(in: directory, size: 8 << 20, agentMonitors: 2)
        defer { daemon.stop() }
        // What a killed agent leaves: a bitmap, an export, and (for the sandbox) an NBD server
        // on a socket that is gone. Here the daemon's own server stands in for it.
        let killed = try QMPConnection(socket: daemon.monitor + "2")
        try killed.execute("block-dirty-bitmap-add", ["node": "disk0", "name": "ferry-dead-0-3", "granularity": ReplicationProtocol.blockSize])
        try killed.execute("block-export-add", ["type": "nbd", "id": "ferry-dead-live-0", "node-name": "disk0", "name": "ferry-dead-live-0", "writable": false])
        try killed.execute("block-export-del", ["id": "writer"])

        let (tracking, readers) = try QEMUWriteTracking.attach(monitor: daemon.monitor, disks: [daemon.disk])
        let nodes = try killed.execute("query-named-block-nodes", ["flat": true]) as? [[String: Any]] ?? []
        let bitmaps = nodes.flatMap { ($0["dirty-bitmaps"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } }
        #expect(!bitmaps.contains("ferry-dead-0-3") && bitmaps.count == 1, "\(bitmaps)")
        let exports = (try killed.execute("query-block-exports") as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(!exports.contains("ferry-dead-live-0") && exports.count == 1, "\(exports)")
        #expect(try tracking.trackers[0].take().isEmpty)
        #expect(readers[0].size == 8 << 20)
    }
}
