import FerryTestSupport
import Foundation
import Testing

/// `ferry source retention`: shown, set per server, refused with a reason when malformed.
@Suite("ferry source retention")
struct SourceRetentionCommandTests {
    @Test func aServersRetentionIsShownSetAndRefusedWhenMalformed() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        let disk = directory.appendingPathComponent("disk.raw")
        FileManager.default.createFile(atPath: disk.path, contents: Data(count: 1 << 20))
        let added = try FerryProcess.run(["source", "add", "--adapter", "physical", "--disk", disk.path, "--hostname", "web1", "--workspace", workspace, "--output", "json"])
        let servers = try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [[String: Any]], "\(added.stderr)")
        let id = try #require(servers.first?["id"] as? String)

        let shown = try FerryProcess.run(["source", "retention", id, "--workspace", workspace])
        #expect(shown.stdout.contains("keeps the newest 7 points in time, and one per 10m for 1h, then one per 1h for 1d, then one per 1d for 7d (MGN's default)"), "\(shown.stdout)")

        let set = try FerryProcess.run(["source", "retention", id, "--newest", "3", "--tier", "1m:10m", "--tier", "6h:2d", "--workspace", workspace, "--output", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(set.stdout.utf8)) as? [String: Any], "\(set.stderr)")
        #expect(json["newest"] as? Int == 3)
        #expect((json["tiers"] as? [[String: Int]])?.map { [$0["everySeconds"] ?? 0, $0["forSeconds"] ?? 0] } == [[60, 600], [21_600, 172_800]])
        // Kept in the server's replication settings, which the replication server reads.
        let server = try FerryProcess.run(["source", "show", id, "--workspace", workspace, "--output", "json"])
        #expect(server.stdout.contains("\"snapshotRetentionCount\" : 3"), "\(server.stdout)")

        for (arguments, reason) in [
            (["--tier", "10x:1h"], "'10x' is not a duration"),
            (["--tier", "1h:10m"], "a tier's span (10m) must be at least its window (1h)"),
            (["--tier", "1h"], "write it as EVERY:FOR"),
            (["--newest", "0"], "--newest must be 1 or more"),
            (["--no-tiers", "--default-tiers"], "cannot be used together"),
        ] {
            let refused = try FerryProcess.run(["source", "retention", id, "--workspace", workspace] + arguments)
            #expect(refused.status != 0 && refused.stderr.contains(reason), "\(arguments): \(refused.stderr)")
        }
        let unchanged = try FerryProcess.run(["source", "retention", id, "--no-tiers", "--workspace", workspace])
        #expect(unchanged.stdout.contains("keeps the newest 3 points in time, and no older point."), "\(unchanged.stdout)")
        let unknown = try FerryProcess.run(["source", "retention", "s-nope", "--workspace", workspace])
        #expect(unknown.status != 0 && unknown.stderr.contains("no source server 's-nope'"), "\(unknown.stderr)")
    }
}
