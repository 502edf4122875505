import FerryCore
import FerryKit
import Foundation
import FerryTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The replication commands as separate processes, killed and restarted like real ones.
@Suite("ferry agent and replication-server", .serialized)
struct ReplicationCommandsTests {
    static let mib = 1 << 20

    final class Project {
        let directory: URL
        var workspace: String { directory.appendingPathComponent("ws").path }
        var server: Process?
        var port = 0

        init() throws {
            directory = try FerryProcess.temporaryDirectory()
            #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        }

        var token: String { get throws { try String(contentsOfFile: workspace + "/agent-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } }

        /// Starts `ferry replication-server` on a free port (or `port`) and waits until it listens.
        func startServer(port wanted: Int = 0) throws {
            let started = try ReplicationServerProcess(workspace: workspace, port: wanted)
            server = started.process
            port = started.port
        }

        func killServer() {
            guard let server else { return }
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            self.server = nil
        }

        func agent(_ disk: String, extra: [String] = [], token: String? = nil) throws -> Process {
            let process = Process()
            process.executableURL = FerryProcess.executable
            // On the workbench itself: the workspace's certificate is the pin.
            process.arguments = ["agent", "--server", "127.0.0.1:\(port)", "--token", try token ?? self.token, "--disk", disk, "--identity", "test-machine",
                                 "--workspace", workspace, "--output", "json"] + extra
            process.standardOutput = Pipe()
            process.standardError = Pipe()
            try process.run()
            return process
        }

        /// Runs an agent to the end and returns its pass summary.
        func replicate(_ disk: String, extra: [String] = []) throws -> [String: Any] {
            let process = try agent(disk, extra: extra)
            let collected = try ChildOutput.collect(process, output: process.standardOutput as! Pipe, errors: process.standardError as? Pipe, timeoutSeconds: 300)
            #expect(collected.status == 0, "agent failed: \(String(decoding: collected.stderr, as: UTF8.self))")
            let line = String(decoding: collected.stdout, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "{}"
            return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        }

        func ferry(_ arguments: [String]) throws -> FerryProcess.Result {
            try FerryProcess.run(arguments + ["--workspace", workspace])
        }

        func cleanUp() {
            killServer()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Writes random data into `regions` of a sparse file of `size` bytes.
    static func makeImage(_ path: String, size: UInt64, regions: [(UInt64, Int)], seed: UInt64) throws {
        try SparseImage.write(path, size: size, regions: regions.map { (offset: $0.0, length: $0.1) }, seed: seed)
    }

    static func sameBytes(_ a: String, _ b: String) throws -> Bool {
        let result = try ProcessRunner.run("/usr/bin/cmp", [a, b])
        return result == 0
    }

    @Test func aOneGiBImageReplicatesAndExportsByteIdentical() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let image = project.directory.appendingPathComponent("disk.raw").path
        let regions: [(UInt64, Int)] = (0..<12).map { (UInt64($0) * 85 * UInt64(Self.mib) + 4096, 3 * Self.mib + 1000) }
        try Self.makeImage(image, size: 1 << 30, regions: regions, seed: 1)
        try project.startServer()

        let summary = try project.replicate(image)
        let dataBlocks = ByteRange.blockIndexes(covering: regions.map { ByteRange(offset: $0.0, length: UInt64($0.1)) }, blockSize: 512 * 1024).count
        #expect(summary["blocksSent"] as? Int == dataBlocks)
        // Zero regions were not sent: what crossed the wire is the data blocks and no more.
        #expect(summary["bytesSent"] as? Int == dataBlocks * 512 * 1024)

        let snapshot = try #require(summary["snapshot"] as? String)
        let exported = project.directory.appendingPathComponent("export.raw").path
        #expect(try project.ferry(["snapshot", "export", snapshot, "-o", exported]).status == 0)
        #expect(try Self.sameBytes(image, exported))
        let verify = try project.ferry(["snapshot", "verify", snapshot])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("intact"))

        let list = try project.ferry(["source", "list", "--output", "json"])
        let servers = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        let id = try #require(servers?.first?["id"] as? String)
        let show = try project.ferry(["source", "show", id])
        #expect(show.stdout.contains("READY_FOR_TEST"))
        #expect(show.stdout.contains("lag:"))
        #expect(show.stdout.contains("backlog"))
    }

    @Test func aKilledAgentResumesWithoutResendingAcknowledgedBlocks() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let image = project.directory.appendingPathComponent("disk.raw").path
        try Self.makeImage(image, size: UInt64(64 * Self.mib), regions: [(0, 40 * Self.mib)], seed: 2)
        try project.startServer()

        // 40 MiB at 80 Mbit/s takes 4 s: kill it part-way.
        let first = try project.agent(image, extra: ["--throttle-mbps", "80"])
        Thread.sleep(forTimeInterval: 1.5)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        let workspace = try Workspace.open(at: URL(fileURLWithPath: project.workspace))
        let serverID = try #require(try workspace.sourceServers.list().first?.id)
        let acknowledged = try StagingStore(workspace: workspace).replicaBlocks(sourceServerID: serverID, diskIndex: 0).count
        #expect(acknowledged > 0 && acknowledged < 80, "the first agent should have been killed part-way, acknowledged \(acknowledged)")

        let summary = try project.replicate(image)
        #expect(summary["blocksSent"] as? Int == 80 - acknowledged)
        let exported = project.directory.appendingPathComponent("export.raw").path
        #expect(try project.ferry(["snapshot", "export", try #require(summary["snapshot"] as? String), "-o", exported]).status == 0)
        #expect(try Self.sameBytes(image, exported))
    }

    @Test func aKilledServerKeepsTheLastSnapshotAndTheResumedRunCompletes() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let image = project.directory.appendingPathComponent("disk.raw").path
        let original = project.directory.appendingPathComponent("original.raw").path
        try Self.makeImage(image, size: UInt64(64 * Self.mib), regions: [(0, 32 * Self.mib)], seed: 3)
        try FileManager.default.copyItem(atPath: image, toPath: original)
        try project.startServer()
        let committed = try #require(try project.replicate(image)["snapshot"] as? String)

        // Change most of the data, then kill the server while the second pass is under way.
        try Self.makeImage(image, size: UInt64(64 * Self.mib), regions: [(0, 32 * Self.mib)], seed: 4)
        let agent = try project.agent(image, extra: ["--throttle-mbps", "80", "--attempts", "1"])
        Thread.sleep(forTimeInterval: 1.5)
        project.killServer()
        agent.waitUntilExit()
        #expect(agent.terminationStatus != 0)

        let verify = try project.ferry(["snapshot", "verify", committed])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let exportedOld = project.directory.appendingPathComponent("old.raw").path
        #expect(try project.ferry(["snapshot", "export", committed, "-o", exportedOld]).status == 0)
        #expect(try Self.sameBytes(original, exportedOld))

        try project.startServer()
        let summary = try project.replicate(image)
        #expect((summary["blocksSent"] as? Int ?? 64) < 64, "blocks stored before the crash are not sent again")
        let exportedNew = project.directory.appendingPathComponent("new.raw").path
        #expect(try project.ferry(["snapshot", "export", try #require(summary["snapshot"] as? String), "-o", exportedNew]).status == 0)
        #expect(try Self.sameBytes(image, exportedNew))
    }

    /// Crashes at any moment lose nothing: while the disk keeps changing, the continuous
    /// agent or the server is killed with -9 at a random moment, twenty times, and started
    /// again. A restarted agent (or one whose server came back) compares every block with
    /// what the server holds, so no write is lost; once the writes stop, the next point
    /// equals the disk byte for byte, and every snapshot kept meanwhile verifies.
    @Test(.timeLimit(.minutes(5))) func twentyRoundsOfKillNineLoseNoWrite() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let image = project.directory.appendingPathComponent("disk.raw").path
        try Self.makeImage(image, size: UInt64(64 * Self.mib), regions: [(0, 24 * Self.mib)], seed: 7)
        try project.startServer()
        let port = project.port
        let log = project.directory.appendingPathComponent("agent.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        func startAgent() throws -> Process {
            let process = Process()
            process.executableURL = FerryProcess.executable
            process.arguments = ["agent", "--server", "127.0.0.1:\(port)", "--disk", image, "--identity", "kill-rounds", "--continuous",
                                 "--interval", "0.5", "--workspace", project.workspace, "--output", "json"]
            process.environment = ProcessInfo.processInfo.environment.merging(["FERRY_AGENT_TOKEN": try project.token]) { $1 }
            let output = try FileHandle(forWritingTo: log)
            output.seekToEndOfFile()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            return process
        }
        var agent = try startAgent()
        defer { kill(agent.processIdentifier, SIGKILL); _ = ChildExit.wait(for: agent) }
        let writer = RandomBlockWriter(path: image, span: 48 * Self.mib, seed: 8)
        writer.start()
        var random = SplitMix64(seed: 9)
        var kills = (agent: 0, server: 0)
        for _ in 0..<20 {
            Thread.sleep(forTimeInterval: 0.3 + Double(random.next() % 1200) / 1000)
            if random.next() % 2 == 0 {
                kill(agent.processIdentifier, SIGKILL)
                _ = ChildExit.wait(for: agent)
                agent = try startAgent()
                kills.agent += 1
            } else {
                project.killServer()
                try project.startServer(port: port)
                kills.server += 1
            }
        }
        let written = writer.stop()
        #expect(kills.agent > 0 && kills.server > 0 && written > 100, "kills \(kills), writes \(written)")

        // The writes have stopped: the first pass that finds nothing more to send began after
        // the last of them, and its point is the disk as it is now.
        let stoppedAt = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").count ?? 0
        var final: String?
        let deadline = Date().addingTimeInterval(120)
        while final == nil, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            let lines = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").dropFirst(stoppedAt) ?? []
            for line in lines {
                guard let pass = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
                if pass["blocksSent"] as? Int == 0, let id = pass["snapshot"] as? String { final = id; break }
            }
        }
        let snapshot = try #require(final, "no point after the writes stopped: \((try? String(contentsOf: log, encoding: .utf8))?.suffix(2000) ?? "")")
        let exported = project.directory.appendingPathComponent("final.raw").path
        #expect(try project.ferry(["snapshot", "export", snapshot, "-o", exported]).status == 0)
        #expect(try Self.sameBytes(image, exported), "the point after \(kills.agent) agent and \(kills.server) server kills differs from the disk")
        let list = try project.ferry(["snapshot", "list", "--output", "json"])
        let snapshots = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(snapshots.count > 1)
        for id in snapshots.compactMap({ $0["id"] as? String }) {
            let verify = try project.ferry(["snapshot", "verify", id])
            #expect(verify.status == 0, "\(id): \(verify.stdout)\(verify.stderr)")
        }
    }

    /// Two servers on one workspace corrupted a snapshot; the second is now refused in one
    /// line naming the first, and a server killed with -9 leaves nothing that blocks the next.
    @Test func aSecondServerIsRefusedAndAKilledOnesLockIsTakenOver() throws {
        let project = try Project()
        defer { project.cleanUp() }
        try project.startServer()
        let holder = try #require(project.server?.processIdentifier)
        let second = try project.ferry(["replication-server", "--listen", "127.0.0.1:0"])
        #expect(second.status == 1)
        let lines = second.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(second.stderr)")
        #expect(second.stderr.contains("process \(holder)") && second.stderr.contains("kill \(holder)"), "\(second.stderr)")

        project.killServer()
        try project.startServer()
        #expect(project.server?.processIdentifier != holder)
        let image = project.directory.appendingPathComponent("disk.raw").path
        try Self.makeImage(image, size: UInt64(Self.mib), regions: [(0, 4096)], seed: 6)
        #expect(try project.replicate(image)["blocksSent"] as? Int == 1)
    }

    @Test func theTokenIsShownWithTheInstallCommandAndRotationLocksOutTheOldOne() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let old = try project.token
        let shown = try project.ferry(["agent", "token"])
        #expect(shown.stdout.contains(old))
        // The installer from the server, checked against the pin; the token through a pipe,
        // since a token on a command line would be visible in `ps`.
        let pin = try #require(shown.stdout.split(separator: "\n").first { $0.hasPrefix("Replication server certificate pin: ") }?.split(separator: " ").last)
        #expect(shown.stdout.contains("curl -fsS --insecure --pinnedpubkey '\(pin)' -o ferry-installer https://127.0.0.1:1500/installer"), "\(shown.stdout)")
        #expect(shown.stdout.contains("printf '%s\\n' '\(old)' | $([ \"$(id -u)\" = 0 ] || echo sudo) sh ferry-installer --token-stdin --no-prompt"), "\(shown.stdout)")
        #expect(!shown.stdout.contains("-t \(old)"))
        // No other command prints it.
        for command in [["source", "list"], ["adapters"], ["snapshot", "list"]] {
            #expect(try !project.ferry(command).stdout.contains(old))
        }
        #expect(try !FerryProcess.run(["init", "--workspace", project.workspace]).stdout.contains(old))
        let rotated = try project.ferry(["agent", "token", "--rotate"])
        #expect(rotated.status == 0)
        #expect(try project.token != old)

        let image = project.directory.appendingPathComponent("disk.raw").path
        try Self.makeImage(image, size: UInt64(Self.mib), regions: [(0, 4096)], seed: 5)
        try project.startServer()
        let refused = try project.agent(image, token: old)
        refused.waitUntilExit()
        let errors = String(decoding: (refused.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(refused.terminationStatus != 0)
        #expect(errors.contains("authentication failed"))
        #expect(try project.replicate(image)["blocksSent"] as? Int == 1)
    }
}

/// Runs a tool and returns its exit status.
enum ProcessRunner {
    static func run(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Writes random 4 KiB blocks at random 4 KiB-aligned places of a file's first `span` bytes,
/// about 400 a second, on a thread of its own until stopped.
final class RandomBlockWriter: @unchecked Sendable {
    // @unchecked: `stopped` and `count` are guarded by `lock`; the thread owns the rest.
    private let path: String
    private let span: Int
    private let seed: UInt64
    private let lock = NSLock()
    private var stopped = false
    private var count = 0
    private let done = DispatchSemaphore(value: 0)

    init(path: String, span: Int, seed: UInt64) {
        self.path = path
        self.span = span
        self.seed = seed
    }

    func start() {
        let thread = Thread { [self] in
            var random = SplitMix64(seed: seed)
            let fd = open(path, O_WRONLY)
            defer { close(fd); done.signal() }
            while true {
                let offset = off_t(Int(random.next() % UInt64(span / 4096)) * 4096)
                let block = random.bytes(4096)
                _ = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, offset) }
                lock.lock()
                count += 1
                let stop = stopped
                lock.unlock()
                if stop { return }
                usleep(2500)
            }
        }
        thread.start()
    }

    /// Stops the writer and returns how many blocks it wrote.
    func stop() -> Int {
        lock.lock()
        stopped = true
        lock.unlock()
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
