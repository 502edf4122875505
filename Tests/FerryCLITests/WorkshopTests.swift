import FerryKit
import Foundation
import Testing

/// The main job, end to end on the sandbox: instances really boot under QEMU.
@Suite("ferry workshop", .serialized)
struct WorkshopTests {
    /// The workspace's one run: its id, `recipe status RUN --output json` as printed and as parsed.
    static func onlyRun(in workspace: String) throws -> (id: String, json: String, run: [String: Any]) {
        let runs = try FerryProcess.run(["recipe", "status", "--workspace", workspace, "--output", "json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        let runID = try #require(list.first?["id"] as? String)
        let status = try FerryProcess.run(["recipe", "status", runID, "--workspace", workspace, "--output", "json"])
        return (runID, status.stdout, try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]))
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test(.timeLimit(.minutes(10)))
    func theWorkshopMigratesWordPressWithThePostWrittenDuringReplicationAndDestroyLeavesNothing() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        let result = try FerryProcess.run(["workshop", "--yes", "--workspace", workspace], in: Self.repositoryRoot, timeoutSeconds: FerryProcess.slow)
        #expect(result.status == 0, "\(result.stdout.suffix(3000))\(result.stderr)")
        #expect(result.stdout.contains("Workshop summary"))
        #expect(result.stdout.contains("cutover command to the first HTTP answer"))
        // Each launch (WordPress, test, cutover) shows its boot's phases while it is waited
        // for, in order, then the first HTTP answer and where to open it.
        let phases = ["QEMU started", "kernel started", "first boot done", "answered 200 after", "open http://127.0.0.1:"]
        #expect(Self.occurrences(of: phases, inOrder: result.stdout) == 3, "\(result.stdout)")
        #expect(result.stdout.split(separator: "\n").contains { $0.contains("QEMU started — ") && $0.hasSuffix(" s") }, "with the seconds elapsed")
        // The replication's wait draws a bar with the bytes replicated (then rate and ETA, once measured).
        #expect(result.stdout.split(separator: "\n").contains { $0.contains("· [") && $0.contains("%  ") && $0.contains(" of ") }, "a progress bar")

        let (runID, _, run) = try Self.onlyRun(in: workspace)
        #expect(run["status"] as? String == "succeeded")
        let steps = try #require(run["steps"] as? [[String: Any]])
        let cutover = try #require(steps.first { $0["stepID"] as? String == "cutover" })
        let url = try #require((cutover["outputs"] as? [String: Any])?["url"] as? String)

        // After the workshop the cutover instance runs and serves the post written during replication.
        let page = try String(contentsOf: try #require(URL(string: url)), encoding: .utf8)
        #expect(page.contains("Written during replication"))
        // Both launches are jobs of the migration service, each stage in its log, in order.
        let jobs = try Workspace.open(at: URL(fileURLWithPath: workspace)).jobs
        let launched = try jobs.jobs()
        #expect(launched.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.launchCutover, .launchTest])
        #expect(launched.allSatisfy { $0.status == .completed && $0.endedAt != nil })
        let cutoverJob = try #require((cutover["outputs"] as? [String: Any])?["job_id"] as? String)
        let log = try jobs.events(jobID: cutoverJob).map(\.event)
        // The busybox guest is launched as it was replicated: its convert stage says so, before the import.
        let stages: [LaunchStage] = [.selectSnapshot, .inspect, .convert, .importVolumes, .registerImage, .launchInstance, .verify]
        #expect(log.filter { $0.hasPrefix("Stage: ") } == stages.map { "Stage: \($0.rawValue)" })
        #expect(log.contains("Conversion skipped"))
        #expect(log.first == "Job started" && log.last == "Job finished")
        #expect(log.contains("Launched instance"))
        // The same jobs, as a consultant reads them.
        let listed = try FerryProcess.run(["job", "list", "--workspace", workspace])
        #expect(listed.stdout.contains("LAUNCH_TEST") && listed.stdout.contains("LAUNCH_CUTOVER") && listed.stdout.contains(cutoverJob), "\(listed.stdout)")
        let jobLog = try FerryProcess.run(["job", "log", cutoverJob, "--workspace", workspace])
        #expect(jobLog.stdout.contains("Launched instance") && jobLog.stdout.contains("Job finished"), "\(jobLog.stdout)")
        let finalize = try #require(steps.first { $0["stepID"] as? String == "finalize" })
        #expect((finalize["outputs"] as? [String: Any])?["lifecycle"] as? String == "ARCHIVED")

        // What only served the test and the staging is gone before destroy: the test launch's
        // image and volume at mark-ready, every staging segment at finalize of the only server.
        let resources = try #require(run["resources"] as? [[String: Any]])
        let testLeftovers = resources.filter { record in
            let detail = (record["detail"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            return ["test-image", "test-volume"].contains(detail?["role"] as? String ?? "")
        }
        #expect(testLeftovers.count >= 2)
        #expect(testLeftovers.allSatisfy { $0["destroyedAt"] != nil }, "\(testLeftovers)")
        let segments = URL(fileURLWithPath: workspace).appendingPathComponent("staging/segments").path
        #expect(try FileManager.default.contentsOfDirectory(atPath: segments).isEmpty)
        #expect(!result.stdout.contains(" 0 MiB reclaimed"))
        let serverID = try #require((steps.first { $0["stepID"] as? String == "initial-sync" }?["outputs"] as? [String: Any])?["source_server_id"] as? String)
        // Agentless at the hypervisor: QEMU tracked the guest's writes and took its points.
        let record = try FerryProcess.run(["source", "show", serverID, "--workspace", workspace, "--output", "json"])
        #expect(record.stdout.contains("QEMU's dirty bitmap of") && record.stdout.contains("image fleecing per point"), "\(record.stdout)")
        let shown = try FerryProcess.run(["source", "show", serverID, "--workspace", workspace])
        #expect(shown.stdout.contains("ARCHIVED") && !shown.stdout.contains("lag:") && !shown.stdout.contains("ETA:"), "\(shown.stdout)")

        let destroyed = try FerryProcess.run(["recipe", "destroy", runID, "--workspace", workspace])
        #expect(destroyed.status == 0, "\(destroyed.stderr)")
        #expect(try Self.qemuProcesses(mentioning: workspace).isEmpty)
        let sandbox = try FerryProcess.run(["sandbox", "status", "--workspace", workspace, "--output", "json"])
        let inventory = try #require(try JSONSerialization.jsonObject(with: Data(sandbox.stdout.utf8)) as? [String: Any])
        let instances = inventory["instances"] as? [[String: Any]] ?? []
        #expect(!instances.isEmpty)
        #expect(instances.allSatisfy { (($0["instance"] as? [String: Any])?["state"] as? String) == "terminated" })
        let networks = try #require(inventory["networks"] as? [String: Any])
        for kind in ["vpcs", "subnets", "securityGroups", "internetGateways", "routeTables"] {
            #expect((networks[kind] as? [Any])?.isEmpty == true, "\(kind) left behind")
        }
        #expect((inventory["users"] as? [Any])?.isEmpty == true)
    }

    /// How many times `phrases` appear one after the other, each run starting after the last.
    static func occurrences(of phrases: [String], inOrder text: String) -> Int {
        var rest = text[...]
        var count = 0
        while true {
            for phrase in phrases {
                guard let found = rest.range(of: phrase) else { return count }
                rest = rest[found.upperBound...]
            }
            count += 1
        }
    }

    /// QEMU processes whose command line names `path`.
    static func qemuProcesses(mentioning path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { pid in
            guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let command = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            return command.contains("qemu-system") && command.contains(path) ? command : nil
        }
    }
}
