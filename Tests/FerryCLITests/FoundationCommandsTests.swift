import FerryCore
import FerryKit
import Foundation
import Testing

@Suite("ferry: version, init, adapters, source")
struct FoundationCommandsTests {
    @Test func helpDocumentsEveryCommand() throws {
        let result = try FerryProcess.run(["--help"])
        #expect(result.status == 0)
        for command in ["version", "init", "adapters", "source"] {
            #expect(result.stdout.contains("  \(command) "), "help does not list \(command)")
        }
    }

    @Test func versionInTextAndJSON() throws {
        #expect(try FerryProcess.run(["version"]).stdout == "ferry \(FerryVersion.current)\n")
        let json = try FerryProcess.run(["version", "--output", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String]
        #expect(object?["version"] == FerryVersion.current)
    }

    @Test func adaptersListsTheFourBuiltInsAsJSON() throws {
        let result = try FerryProcess.run(["adapters", "--output", "json"])
        #expect(result.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as! String, $0) })
        #expect(Set(byName.keys).isSuperset(of: ["physical", "vmware", "aws", "sandbox"]))
        #expect(byName["physical"]?["kind"] as? String == "source")
        #expect(byName["vmware"]?["kind"] as? String == "source")
        #expect(byName["aws"]?["kind"] as? String == "target")
        #expect(byName["sandbox"]?["kind"] as? String == "target")
        for adapter in list {
            #expect(adapter["version"] as? String != nil)
            #expect(adapter["capabilities"] as? [String] != nil)
            // An adapter that is not built says why.
            if adapter["available"] as? Bool == false {
                #expect((adapter["unavailableReason"] as? String)?.isEmpty == false)
            }
        }
        #expect((byName["physical"]?["capabilities"] as? [String])?.contains("block-read") == true)
    }

    @Test func adaptersInTextShowsATableAndOptions() throws {
        let result = try FerryProcess.run(["adapters"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("NAME"))
        #expect(result.stdout.contains("--disk <path>"))
    }

    @Test func sourceListWithoutAWorkspaceSaysHowToCreateOne() throws {
        let dir = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try FerryProcess.run(["source", "list"], in: dir)
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "a user error is one line: \(result.stderr)")
        #expect(result.stderr.contains("ferry init"))
    }

    @Test func initThenSourceListIsEmptyInTextAndJSON() throws {
        let dir = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let created = try FerryProcess.run(["init"], in: dir)
        #expect(created.status == 0)
        #expect(created.stdout.contains("Created workspace"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(".ferry/ferry.sqlite").path))

        let text = try FerryProcess.run(["source", "list"], in: dir)
        #expect(text.status == 0)
        #expect(text.stdout.contains("No source servers yet"))
        let json = try FerryProcess.run(["source", "list", "--output", "json"], in: dir)
        #expect(json.status == 0)
        let list = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any]
        #expect(list?.isEmpty == true)
    }

    @Test func workspaceComesFromTheEnvironment() throws {
        let dir = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("project-ws").path
        #expect(try FerryProcess.run(["init"], environment: ["FERRY_WORKSPACE": path]).status == 0)
        #expect(FileManager.default.fileExists(atPath: path + "/ferry.sqlite"))
        #expect(try FerryProcess.run(["source", "list"], environment: ["FERRY_WORKSPACE": path]).status == 0)
    }

    @Test func sourceShowPrintsAServerInTextAndJSON() throws {
        let dir = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workspace = try Workspace.create(at: dir.appendingPathComponent(".ferry"), ferryVersion: "test").workspace
        let server = SourceServer(adapter: "physical", facts: MachineFacts(hostname: "web-1", cpuCount: 2, disks: [DiskFacts(name: "disk.raw", sizeBytes: 1 << 30, locator: "/tmp/disk.raw")]))
        try workspace.sourceServers.save(server)

        let text = try FerryProcess.run(["source", "show", server.id], in: dir)
        #expect(text.status == 0)
        #expect(text.stdout.contains("web-1"))
        #expect(text.stdout.contains("NOT_READY"))
        #expect(text.stdout.contains("1.0 GiB"))

        let json = try FerryProcess.run(["source", "show", server.id, "--output", "json"], in: dir)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["id"] as? String == server.id)
        #expect(object["lifecycleState"] as? String == "NOT_READY")

        let list = try FerryProcess.run(["source", "list"], in: dir)
        #expect(list.stdout.contains(server.id))
    }

    @Test func sourceListWatchPrintsOneTablePerIntervalWithReplicationProgressUntilItsCount() throws {
        let dir = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workspace = try Workspace.create(at: dir.appendingPathComponent(".ferry"), ferryVersion: "test").workspace
        var server = SourceServer(adapter: "physical", facts: MachineFacts(hostname: "web-1", cpuCount: 2, disks: [DiskFacts(name: "disk.raw", sizeBytes: 1 << 30, locator: "/tmp/disk.raw")]))
        server.replicationMetrics = ReplicationMetrics(totalBytes: 1 << 30, replicatedBytes: 1 << 28, lagSeconds: 2.5, etaSeconds: 30)
        try workspace.sourceServers.save(server)

        let started = Date()
        let result = try FerryProcess.run(["source", "list", "--watch", "--interval", "0.5", "--count", "3"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        // Not a terminal: one table per refresh, each headed by its time, none redrawn.
        #expect(result.stdout.components(separatedBy: "ID ").count - 1 == 3, "\(result.stdout)")
        #expect(result.stdout.components(separatedBy: "Ctrl-C stops").count - 1 == 3)
        #expect(!result.stdout.contains("\u{1B}["))
        #expect(result.stdout.contains("256.0 MiB (25%)"))
        #expect(result.stdout.contains("2.5 s"))
        #expect(Date().timeIntervalSince(started) >= 1, "two intervals of 0.5 s between three tables")

        let refused = try FerryProcess.run(["source", "list", "--count", "2"], in: dir)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--count is for --watch"))
    }

    @Test func anUnknownServerIsAOneLineError() throws {
        let dir = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try FerryProcess.run(["init"], in: dir)
        let result = try FerryProcess.run(["source", "show", "s-nope"], in: dir)
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("s-nope"))
    }

    @Test func aBadOptionValueIsRefused() throws {
        let result = try FerryProcess.run(["adapters", "--output", "yaml"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("yaml"))
    }
}
