import FerryCore
import FerryKit
import Foundation
import FerryTestSupport
import Testing

/// External adapters as a user meets them: `ferry adapters`, `ferry adapter test` on every
/// built-in source and on the example qcow2 plugin, a qcow2 image migrated through the
/// plugin, a lying plugin that stores nothing, and `ferry adapter new`.
@Suite("external adapters from the command line", .serialized)
struct PluginCommandsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let examplePlugins = root.appendingPathComponent("examples/qcow2").path
    static let mib: UInt64 = 1 << 20

    let directory: URL
    var workspace: String { directory.appendingPathComponent("ws").path }

    init() throws {
        directory = try FerryProcess.temporaryDirectory()
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func ferry(_ arguments: [String], pluginPath: [String] = [examplePlugins]) throws -> FerryProcess.Result {
        try FerryProcess.run(arguments + ["--workspace", workspace], environment: ["FERRY_PLUGIN_PATH": pluginPath.joined(separator: ":")])
    }

    func json(_ result: FerryProcess.Result) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    @discardableResult
    static func tool(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func qemuImg(_ arguments: [String]) throws {
        #expect(try tool("/usr/bin/qemu-img", arguments) == 0, "qemu-img \(arguments.joined(separator: " "))")
    }

    static func sameBytes(_ a: String, _ b: String) throws -> Bool {
        try tool("/usr/bin/cmp", [a, b]) == 0
    }

    /// A raw disk of `size` with data in a few places, including across a 512 KiB boundary
    /// and at the very end.
    func makeRaw(_ name: String, size: UInt64 = 24 << 20, seed: UInt64 = 3) throws -> String {
        let path = self.path(name)
        try SparseImage.write(path, size: size, regions: [(0, 300_000), (Self.mib / 2 - 5000, 10_000), (5 * Self.mib, 3 * Int(Self.mib)), (size - 4096, 4096)], seed: seed)
        return path
    }

    /// qcow2 images of the kinds the example plugin reads, each with its raw conversion by
    /// qemu-img (the oracle) next to it.
    func makeQcow2Images() throws -> [(image: String, raw: String)] {
        let base = try makeRaw("base.raw")
        try Self.qemuImg(["convert", "-f", "raw", "-O", "qcow2", base, path("plain.qcow2")])
        try Self.qemuImg(["convert", "-f", "raw", "-O", "qcow2", "-c", base, path("compressed.qcow2")])
        try Self.qemuImg(["convert", "-f", "raw", "-O", "qcow2", "-o", "compat=0.10,cluster_size=4096", base, path("v2-small-clusters.qcow2")])
        // An overlay on a backing file, with its own writes on top.
        try Self.qemuImg(["create", "-f", "qcow2", "-b", "plain.qcow2", "-F", "qcow2", path("overlay.qcow2")])
        try Self.qemuImg(["convert", "-f", "raw", "-O", "qcow2", try makeRaw("patch.raw", size: 24 << 20, seed: 9), path("patch.qcow2")])
        #expect(try Self.tool("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 6M 1M", "-c", "write -z 0 64k", path("overlay.qcow2")]) == 0)
        return try ["plain", "compressed", "v2-small-clusters", "overlay"].map { name in
            let raw = path("\(name).expected.raw")
            try Self.qemuImg(["convert", "-O", "raw", path("\(name).qcow2"), raw])
            return (path("\(name).qcow2"), raw)
        }
    }

    /// Writes an executable plugin script named `ferry-adapter-<name>` into `folder`.
    /// Writes `ferry-adapter-NAME` into `folder`, beside the framing module a Python plugin imports.
    func writePlugin(_ name: String, in folder: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try PythonPluginFraming.write(into: URL(fileURLWithPath: folder))
        let file = "\(folder)/ferry-adapter-\(name)"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o755)
    }

    // MARK: - ferry adapters

    @Test func adaptersListsExternalAdaptersWithTheirPathAndBrokenOnesWithTheReason() throws {
        let broken = path("broken")
        try writePlugin("chatty", in: broken, "#!/bin/sh\necho 'hello, I am not a protocol message'\nsleep 1\n")
        let result = try ferry(["adapters", "--output", "json"], pluginPath: [Self.examplePlugins, broken])
        #expect(result.status == 0, "\(result.stderr)")
        let list = try #require(try json(result) as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as! String, $0) })
        #expect(byName["physical"]?["origin"] as? String == "built-in")
        #expect(byName["qcow2"]?["origin"] as? String == "external")
        #expect(byName["qcow2"]?["path"] as? String == Self.examplePlugins + "/ferry-adapter-qcow2")
        #expect(byName["qcow2"]?["capabilities"] as? [String] == ["discovery", "block-read", "change-tracking"])
        #expect(byName["chatty"]?["broken"] as? Bool == true)
        #expect((byName["chatty"]?["unavailableReason"] as? String)?.contains("broke the plugin protocol during describe") == true)

        let text = try ferry(["adapters"], pluginPath: [Self.examplePlugins, broken])
        #expect(text.stdout.contains("qcow2: KVM and OpenStack qcow2 images"))
        #expect(text.stdout.contains("external: \(Self.examplePlugins)/ferry-adapter-qcow2"))
        #expect(text.stdout.contains("chatty: broken, not loaded"))
    }

    @Test func noPluginOutlivesFerryEvenOneThatIgnoresTheEndOfItsInput() throws {
        let folder = path("stubborn")
        let pidFile = path("stubborn.pid")
        try writePlugin("stubborn", in: folder, #"""
            #!/usr/bin/env python3
            # Answers describe, then ignores the end of its input and sleeps on: against the protocol.
            import json, os, sys, time
            open("\#(pidFile)", "w").write(str(os.getpid()))
            line = b""
            while not line.endswith(b"\r\n\r\n"): line += sys.stdin.buffer.read(1)
            req = json.loads(sys.stdin.buffer.read(int(line.split(b":")[1])))
            body = json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": {"protocolVersion": 1, "name": "stubborn", "kind": "source",
                "version": "1", "summary": "stubborn", "capabilities": ["discovery", "block-read"]}}).encode()
            sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body); sys.stdout.flush()
            while True: time.sleep(1)
            """#)
        let listed = try ferry(["adapters"], pluginPath: [folder])
        #expect(listed.stdout.contains("stubborn"), "\(listed.stderr)")
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8)))
        var state = "?"
        for _ in 0..<50 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            state = stat.split(separator: ")").last?.split(separator: " ").first.map(String.init) ?? "gone"
            if state == "gone" || state == "Z" { break }
            usleep(100_000)
        }
        #expect(state == "gone" || state == "Z", "the plugin \(pid) outlived ferry (state \(state))")
    }

    // MARK: - The conformance kit on every source adapter

    func expectConformance(_ adapter: String, _ options: [String], pluginPath: [String] = [examplePlugins], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try ferry(["adapter", "test", adapter, "--output", "json"] + options.flatMap { ["--option", $0] }, pluginPath: pluginPath)
        let report = try #require(try json(result) as? [String: Any], "\(result.stderr)", sourceLocation: sourceLocation)
        let checks = report["checks"] as? [[String: Any]] ?? []
        let failed = checks.filter { $0["outcome"] as? String != "pass" }.map { "\($0["id"] ?? ""): \($0["detail"] ?? "")" }
        #expect(result.status == 0 && report["passed"] as? Bool == true, "\(adapter) \(options): \(failed)", sourceLocation: sourceLocation)
        #expect(checks.count >= 7, "\(checks)", sourceLocation: sourceLocation)
    }

    @Test func everyBuiltInSourceAdapterPassesTheConformanceKit() throws {
        let raw = try makeRaw("web1.raw")
        try expectConformance("physical", ["disk=\(raw)"])
        try Self.qemuImg(["convert", "-f", "raw", "-O", "qcow2", raw, path("web1.qcow2")])
        try expectConformance("physical", ["disk=\(path("web1.qcow2"))"])
        try Self.qemuImg(["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw, path("web1.vmdk")])
        try Self.qemuImg(["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicSparse", raw, path("web2.vmdk")])
        try """
            displayName = "web1"
            guestOS = "debian12-64"
            memsize = "1024"
            numvcpus = "2"
            scsi0:0.present = "TRUE"
            scsi0:0.fileName = "web1.vmdk"
            scsi0:1.present = "TRUE"
            scsi0:1.fileName = "web2.vmdk"
            """.write(toFile: path("web1.vmx"), atomically: true, encoding: .utf8)
        try expectConformance("vmware", ["path=\(path("web1.vmx"))"])
    }

    @Test func theExampleQcow2PluginPassesTheConformanceKitOnEveryKindOfImage() throws {
        for (image, _) in try makeQcow2Images() {
            try expectConformance("qcow2", ["path=\(image)"])
        }
    }

    @Test func aBrokenPluginFailsTheKitAtItsHandshake() throws {
        let folder = path("old")
        try writePlugin("old", in: folder, #"""
            #!/usr/bin/env python3
            import sys, json
            line = b""
            while not line.endswith(b"\r\n\r\n"): line += sys.stdin.buffer.read(1)
            n = int(line.split(b":")[1].split(b"\r\n")[0]); req = json.loads(sys.stdin.buffer.read(n))
            body = json.dumps({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32010, "message": "protocol 0 only", "data": {"supported": [0]}}}).encode()
            sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body); sys.stdout.flush()
            """#)
        let result = try ferry(["adapter", "test", "old", "--output", "json"], pluginPath: [folder])
        #expect(result.status == 1)
        let report = try #require(try json(result) as? [String: Any])
        let first = try #require((report["checks"] as? [[String: Any]])?.first)
        #expect(first["id"] as? String == "handshake")
        #expect(first["outcome"] as? String == "fail")
        #expect((first["detail"] as? String)?.contains("speaks none of the plugin protocol versions this Ferry speaks (1) (it speaks 0)") == true)
    }

    // MARK: - Migrating through the plugin

    @Test func qcow2ImagesMigrateThroughThePluginIntoStagingByteIdenticalToQemuImgConvert() throws {
        let server = try ReplicationServerProcess(workspace: workspace)
        defer { server.stop() }
        let token = try String(contentsOfFile: workspace + "/agent-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        for (index, (image, expected)) in try makeQcow2Images().enumerated() {
            let name = URL(fileURLWithPath: image).deletingPathExtension().lastPathComponent
            let agent = try ferry(["agent", "--server", "127.0.0.1:\(server.port)", "--token", token, "--adapter", "qcow2",
                                   "--option", "path=\(image)", "--identity", name, "--output", "json"])
            #expect(agent.status == 0, "\(name): \(agent.stderr)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data((agent.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any])
            let snapshot = try #require(summary["snapshot"] as? String)
            #expect(try (json(try ferry(["snapshot", "list", "--output", "json"])) as? [Any])?.count == index + 1)
            let exported = path("\(name).exported.raw")
            let export = try ferry(["snapshot", "export", snapshot, "-o", exported])
            #expect(export.status == 0, "\(export.stderr)")
            #expect(try Self.sameBytes(exported, expected), "\(name): the staged disk differs from qemu-img's conversion")
            // Registered as a source server like any other.
            let added = try ferry(["source", "add", "--adapter", "qcow2", "--option", "path=\(image)", "--option", "hostname=\(name)-vm", "--output", "json"])
            let servers = try #require(try json(added) as? [[String: Any]], "\(added.stderr)")
            #expect(servers.first?["adapter"] as? String == "qcow2")
            #expect((servers.first?["facts"] as? [String: Any])?["hostname"] as? String == "\(name)-vm")
            // And read straight to a raw image through the plugin.
            let direct = path("\(name).direct.raw")
            #expect(try ferry(["disk", "export", "--adapter", "qcow2", "--option", "path=\(image)", "-o", direct]).status == 0)
            #expect(try Self.sameBytes(direct, expected))
        }
    }

    @Test func continuousReplicationThroughThePluginFollowsAnImageThatChanges() throws {
        let server = try ReplicationServerProcess(workspace: workspace)
        defer { server.stop() }
        let token = try String(contentsOfFile: workspace + "/agent-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let image = path("running.qcow2")
        try Self.qemuImg(["convert", "-f", "raw", "-O", "qcow2", try makeRaw("running.raw"), image])
        let agent = Process()
        agent.executableURL = FerryProcess.executable
        agent.arguments = ["agent", "--server", "127.0.0.1:\(server.port)", "--token", token, "--adapter", "qcow2", "--option", "path=\(image)",
                           "--continuous", "--interval", "600", "--output", "json", "--workspace", workspace]
        agent.environment = ProcessInfo.processInfo.environment.merging(["FERRY_PLUGIN_PATH": Self.examplePlugins]) { $1 }
        let out = Pipe()
        agent.standardOutput = out
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer { agent.terminate(); agent.waitUntilExit() }
        // Never hang the suite: a stuck agent is stopped, and its output ends.
        DispatchQueue.global().asyncAfter(deadline: .now() + 90) { if agent.isRunning { agent.terminate() } }
        var buffered = ""
        func nextPass() throws -> [String: Any] {
            while !buffered.contains("\n") {
                let chunk = out.fileHandleForReading.availableData
                guard !chunk.isEmpty else { throw CocoaError(.fileReadUnknown) }
                buffered += String(decoding: chunk, as: UTF8.self)
            }
            let line = String(buffered[..<buffered.firstIndex(of: "\n")!])
            buffered.removeSubrange(...buffered.firstIndex(of: "\n")!)
            return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        }
        #expect(try nextPass()["pass"] as? Int == 1)
        // The guest writes while the agent runs: the change stamp moves well before the
        // 600 s interval, and the next pass reads the new data through the plugin.
        #expect(try Self.tool("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0x33 10M 1M", "-c", "write -P 0x44 0 4k", image]) == 0)
        let second = try nextPass()
        #expect(second["pass"] as? Int == 2)
        #expect(second["blocksSent"] as? Int == 3, "\(second)")
        let snapshot = try #require(second["snapshot"] as? String)
        let exported = path("running.exported.raw")
        let expected = path("running.expected.raw")
        #expect(try ferry(["snapshot", "export", snapshot, "-o", exported]).status == 0)
        try Self.qemuImg(["convert", "-O", "raw", image, expected])
        #expect(try Self.sameBytes(exported, expected))
    }

    @Test func aPluginThatLiesAboutItsReadsStoresNothing() throws {
        let folder = path("liar")
        let raw = try makeRaw("liar.raw", size: 8 << 20)
        try writePlugin("liar", in: folder, #"""
            #!/usr/bin/env python3
            # Answers every read with one byte fewer than asked.
            import json, os, sys
            from ferry_framing import read_message, write_message
            inp, out = sys.stdin.buffer, sys.stdout.buffer
            def send(i, result, binary=b""):
                write_message(out, {"jsonrpc": "2.0", "id": i, "result": result}, binary)
            while True:
                message = read_message(inp)
                if message is None: sys.exit(0)
                req = json.loads(message[0]); i, m, p = req["id"], req["method"], req["params"]
                if m == "describe":
                    send(i, {"protocolVersion": 1, "name": "liar", "kind": "source", "version": "1", "summary": "lies",
                             "capabilities": ["discovery", "block-read"], "options": [{"name": "path", "type": "path", "help": "image"}]})
                elif m == "source.discover":
                    size = os.path.getsize(p["options"]["path"])
                    send(i, {"machines": [{"hostname": "liar", "operatingSystem": {"family": "linux", "name": "", "version": ""}, "cpuCount": 1,
                             "memoryBytes": 0, "networkInterfaces": [], "disks": [{"name": "d", "sizeBytes": size, "locator": p["options"]["path"], "isBoot": True}]}]})
                elif m == "source.openDisk":
                    send(i, {"handle": "1", "sizeBytes": os.path.getsize(p["disk"]["locator"])})
                elif m == "source.allocatedRanges":
                    send(i, {"ranges": [{"offset": 0, "length": 8 << 20}]})
                elif m == "source.read":
                    send(i, {"length": p["length"] - 1}, b"\x07" * (p["length"] - 1))
                else:
                    send(i, {})
            """#)
        let server = try ReplicationServerProcess(workspace: workspace)
        defer { server.stop() }
        let token = try String(contentsOfFile: workspace + "/agent-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let agent = try ferry(["agent", "--server", "127.0.0.1:\(server.port)", "--token", token, "--adapter", "liar", "--option", "path=\(raw)"], pluginPath: [folder])
        #expect(agent.status != 0)
        #expect(agent.stderr.contains("adapter 'liar' (\(folder)/ferry-adapter-liar)"), "\(agent.stderr)")
        #expect(agent.stderr.contains("sent 524287 bytes for a read of 524288 bytes"), "\(agent.stderr)")
        let snapshots = try #require(try json(try ferry(["snapshot", "list", "--output", "json"])) as? [Any])
        #expect(snapshots.isEmpty)
    }

    @Test func aContinuousAgentStopsWithThePluginsErrorWhenFerryGivesUpOnIt() throws {
        let folder = path("crashy")
        let raw = try makeRaw("crashy.raw", size: 4 << 20)
        try writePlugin("crashy", in: folder, #"""
            #!/usr/bin/env python3
            # Answers everything but reads; a read kills it, after a word on stderr.
            import json, os, sys
            from ferry_framing import read_message, write_message
            inp, out = sys.stdin.buffer, sys.stdout.buffer
            def send(i, result):
                write_message(out, {"jsonrpc": "2.0", "id": i, "result": result})
            while True:
                message = read_message(inp)
                if message is None: sys.exit(0)
                req = json.loads(message[0]); i, m, p = req["id"], req["method"], req["params"]
                if m == "describe":
                    send(i, {"protocolVersion": 1, "name": "crashy", "kind": "source", "version": "1", "summary": "crashes at every read",
                             "capabilities": ["discovery", "block-read"], "options": [{"name": "path", "type": "path", "help": "image"}]})
                elif m == "source.discover":
                    size = os.path.getsize(p["options"]["path"])
                    send(i, {"machines": [{"hostname": "crashy", "operatingSystem": {"family": "linux", "name": "", "version": ""}, "cpuCount": 1,
                             "memoryBytes": 0, "networkInterfaces": [], "disks": [{"name": "d", "sizeBytes": size, "locator": p["options"]["path"], "isBoot": True}]}]})
                elif m == "source.openDisk":
                    send(i, {"handle": "1", "sizeBytes": os.path.getsize(p["disk"]["locator"])})
                elif m == "source.allocatedRanges":
                    send(i, {"ranges": [{"offset": 0, "length": 4 << 20}]})
                elif m == "source.read":
                    sys.stderr.write("disk controller on fire (simulated)\n"); sys.stderr.flush(); os._exit(3)
                else:
                    send(i, {})
            """#)
        let server = try ReplicationServerProcess(workspace: workspace)
        defer { server.stop() }
        let token = try String(contentsOfFile: workspace + "/agent-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let agent = Process()
        agent.executableURL = FerryProcess.executable
        agent.arguments = ["agent", "--server", "127.0.0.1:\(server.port)", "--token", token, "--adapter", "crashy", "--option", "path=\(raw)",
                           "--continuous", "--workspace", workspace]
        agent.environment = ProcessInfo.processInfo.environment.merging(["FERRY_PLUGIN_PATH": folder]) { $1 }
        let err = Pipe()
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = err
        let started = Date()
        try agent.run()
        // An agent that keeps reconnecting is stopped here, and fails the test below.
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if agent.isRunning { agent.terminate() } }
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        agent.waitUntilExit()
        #expect(Date().timeIntervalSince(started) < 60, "the agent kept running after its plugin failed for good: \(stderr)")
        #expect(agent.terminationReason == .exit && agent.terminationStatus != 0)
        #expect(stderr.contains("adapter 'crashy' (\(folder)/ferry-adapter-crashy)"), "\(stderr)")
        #expect(stderr.contains("gave up"), "\(stderr)")
        #expect(stderr.contains("exit status 3"), "\(stderr)")
        #expect(stderr.contains("disk controller on fire (simulated)"), "\(stderr)")
        // Three restarts, each said with its reason, and no word of a lost connection.
        #expect(stderr.components(separatedBy: "restart").count - 1 >= 3, "\(stderr)")
        #expect(!stderr.contains("Connection lost"), "\(stderr)")
    }

    // MARK: - Only the plugin a command names is started

    @Test func aCommandThatNamesAnAdapterStartsNoOtherPlugin() throws {
        // A plugin that notes each start and then never answers: started, it would cost
        // every command its handshake deadline.
        let hanging = path("hanging")
        let starts = path("hanging.starts")
        try writePlugin("hanging", in: hanging, "#!/bin/sh\necho $$ >> '\(starts)'\nexec sleep 30\n")
        let raw = try makeRaw("named.raw", size: 4 << 20)
        let image = path("named.qcow2")
        try Self.qemuImg(["convert", "-f", "raw", "-O", "qcow2", raw, image])
        let pluginPath = [Self.examplePlugins, hanging]
        func run(_ arguments: [String]) throws -> FerryProcess.Result {
            try FerryProcess.run(arguments + ["--workspace", workspace], environment: ["FERRY_PLUGIN_PATH": pluginPath.joined(separator: ":"), "FERRY_PLUGIN_TIMEOUT": "3"])
        }
        let commands: [[String]] = [
            ["disk", "export", "--adapter", "qcow2", "--option", "path=\(image)", "-o", path("named.out.raw")],
            ["adapter", "test", "qcow2", "--option", "path=\(image)", "--structural"],
            ["source", "add", "--adapter", "qcow2", "--option", "path=\(image)"],
            // Nothing listens on port 1: the agent fails to connect, after loading its adapter.
            ["agent", "--server", "127.0.0.1:1", "--token", "not-needed-here", "--adapter", "qcow2", "--option", "path=\(image)"],
            ["recipe", "plan", "workshop", "--source", "sandbox", "--target", "sandbox"],
            ["disk", "export", "--adapter", "physical", "--option", "disk=\(raw)", "-o", path("physical.out.raw")],
        ]
        for command in commands {
            let result = try run(command)
            if command[0] != "agent" { #expect(result.status == 0, "\(command.joined(separator: " ")): \(result.stderr)") }
            #expect(!FileManager.default.fileExists(atPath: starts), "ferry \(command.joined(separator: " ")) started the hanging plugin")
            try? FileManager.default.removeItem(atPath: starts)
        }
        // Listing the adapters starts every plugin, the hanging one too.
        let listed = try run(["adapters", "--output", "json"])
        #expect(listed.status == 0)
        #expect(FileManager.default.fileExists(atPath: starts))
        #expect(listed.stdout.contains("hanging"))
    }

    // MARK: - The conformance kit and change stamps

    @Test func theKitChecksTheChangeStampOfEveryAdapterThatTracksChanges() throws {
        let raw = try makeRaw("stamped.raw")
        let image = path("stamped.qcow2")
        try Self.qemuImg(["convert", "-f", "raw", "-O", "qcow2", raw, image])
        for (adapter, option) in [("physical", "disk=\(raw)"), ("qcow2", "path=\(image)")] {
            let before = try Data(contentsOf: URL(fileURLWithPath: adapter == "physical" ? raw : image))
            let result = try ferry(["adapter", "test", adapter, "--option", option, "--write-to-disks", "--output", "json"])
            let report = try #require(try json(result) as? [String: Any], "\(result.stderr)")
            let checks = Dictionary(uniqueKeysWithValues: (report["checks"] as? [[String: Any]] ?? []).map { ($0["id"] as! String, $0) })
            for id in ["change-stamp-stable", "change-stamp-follows-writes"] {
                #expect(checks[id]?["outcome"] as? String == "pass", "\(adapter) \(id): \(checks[id] ?? [:])")
            }
            // The write rewrote bytes with their own values: the disk reads as before.
            #expect(try Data(contentsOf: URL(fileURLWithPath: adapter == "physical" ? raw : image)) == before)
        }
        // Without leave to write, the second check is skipped and says how to run it.
        let result = try ferry(["adapter", "test", "physical", "--option", "disk=\(raw)", "--output", "json"])
        let report = try #require(try json(result) as? [String: Any], "\(result.stderr)")
        let skipped = (report["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "change-stamp-follows-writes" }
        #expect(skipped?["outcome"] as? String == "skip")
        #expect((skipped?["detail"] as? String)?.contains("--write-to-disks") == true)
    }

    // MARK: - ferry adapter new

    @Test(arguments: ["python", "swift"])
    func aNewAdapterBuildsAndPassesTheConformanceKitAsWritten(language: String) throws {
        let folder = path("ferry-adapter-fresh-\(language)")
        let created = try ferry(["adapter", "new", "fresh-\(language)", "--kind", "source", "--lang", language, "--dir", folder, "--output", "json"])
        #expect(created.status == 0, "\(created.stderr)")
        let report = try #require(try json(created) as? [String: Any])
        if let build = report["build"] as? String, !build.isEmpty {
            let words = build.split(separator: " ").map(String.init)
            #expect(try Self.tool("/usr/bin/env", words, in: URL(fileURLWithPath: folder)) == 0, "\(build) failed in \(folder)")
        }
        let executable = try #require(report["executable"] as? String)
        #expect(FileManager.default.isExecutableFile(atPath: executable))
        let raw = try makeRaw("fresh.raw")
        let plugins = URL(fileURLWithPath: executable).deletingLastPathComponent().path
        try expectConformance("fresh-\(language)", ["path=\(raw)"], pluginPath: [plugins])
        // The scaffold's TODOs say what to fill in.
        let sources = try FileManager.default.subpathsOfDirectory(atPath: folder).filter { $0.hasSuffix(".swift") || $0.hasPrefix("ferry-adapter-") }
        let text = try sources.map { try String(contentsOfFile: "\(folder)/\($0)", encoding: .utf8) }.joined()
        #expect(text.contains("TODO"))
        // A second run into the same folder refuses rather than overwriting work.
        #expect(try ferry(["adapter", "new", "fresh-\(language)", "--kind", "source", "--lang", language, "--dir", folder]).status != 0)
    }
}
