import FerryCore
import FerryKit
import FerryTestSupport
import Foundation
import Testing

/// `ferry job list|show|log` read the jobs the migration service records.
@Suite("ferry job")
struct JobCommandTests {
    @Test func jobsAreListedShownAndTheirLogsRead() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        let empty = try FerryProcess.run(["job", "list", "--workspace", workspace])
        #expect(empty.stdout.contains("No job yet"), "\(empty.stdout)")

        let jobs = try Workspace.open(at: URL(fileURLWithPath: workspace)).jobs
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        let test = Job(kind: .launchTest, status: .completed, sourceServerIDs: ["s-1"], createdAt: start, endedAt: start.addingTimeInterval(95))
        let cutover = Job(kind: .launchCutover, status: .failed, sourceServerIDs: ["s-1", "s-2"], createdAt: start.addingTimeInterval(600), endedAt: start.addingTimeInterval(640))
        try jobs.create(test)
        try jobs.create(cutover)
        try jobs.log(JobEvent(jobID: test.id, sourceServerID: "s-1", at: start, event: "Job started"))
        try jobs.log(JobEvent(jobID: test.id, sourceServerID: "s-1", at: start.addingTimeInterval(80), event: "Launched instance", detail: "i-0123"))
        try jobs.log(JobEvent(jobID: cutover.id, sourceServerID: "s-2", at: start.addingTimeInterval(640), event: "Job failed: the image did not boot", detail: "kernel panic"))

        let listed = try FerryProcess.run(["job", "list", "--workspace", workspace])
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[1].hasPrefix(cutover.id) && lines[2].hasPrefix(test.id), "newest first: \(listed.stdout)")
        #expect(lines[1].contains("LAUNCH_CUTOVER") && lines[1].contains("FAILED") && lines[1].contains("s-1,s-2"))
        let ofServer = try FerryProcess.run(["job", "list", "--source", "s-2", "--workspace", workspace, "--output", "json"])
        #expect((try JSONSerialization.jsonObject(with: Data(ofServer.stdout.utf8)) as? [[String: Any]])?.compactMap { $0["id"] as? String } == [cutover.id],
                "\(ofServer.stdout)\(ofServer.stderr)")

        let shown = try FerryProcess.run(["job", "show", cutover.id, "--workspace", workspace])
        #expect(shown.stdout.contains("LAUNCH_CUTOVER, FAILED") && shown.stdout.contains("(40 s)") && shown.stdout.contains("failure:  kernel panic"), "\(shown.stdout)")
        let log = try FerryProcess.run(["job", "log", test.id, "--workspace", workspace])
        #expect(log.stdout == "2026-05-28T20:26:40Z [s-1] Job started\n2026-05-28T20:28:00Z [s-1] Launched instance: i-0123\n", "\(log.stdout)")

        let unknown = try FerryProcess.run(["job", "log", "mgnjob-nope", "--workspace", workspace])
        #expect(unknown.status != 0 && unknown.stderr.contains("no job 'mgnjob-nope' in this workspace"), "\(unknown.stderr)")
        let noServer = try FerryProcess.run(["job", "list", "--source", "s-nope", "--workspace", workspace])
        #expect(noServer.status != 0 && noServer.stderr.contains("no source server 's-nope'"), "\(noServer.stderr)")
    }
}
