import FerryCore
import FerryKit
import Foundation
import FerryTestSupport
import Testing

/// An export replaces its output only when it succeeds: one that fails part-way leaves an
/// existing file exactly as it was and no temporary behind, whatever the format.
@Suite("exports replace their output only on success", .serialized)
struct ExportReplacementTests {
    static let size = 8 << 20

    let directory: URL
    var workspace: String { directory.appendingPathComponent("ws").path }
    var plugins: String { directory.appendingPathComponent("plugins").path }

    init() throws {
        directory = try FerryProcess.temporaryDirectory()
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        try Self.writeHalfwayPlugin(in: plugins)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func ferry(_ arguments: [String]) throws -> FerryProcess.Result {
        try FerryProcess.run(arguments + ["--workspace", workspace], environment: ["FERRY_PLUGIN_PATH": plugins])
    }

    /// A source plugin over a raw file whose reads fail from the middle of the disk on, as a
    /// disk with unreadable sectors there would.
    static func writeHalfwayPlugin(in folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try PythonPluginFraming.write(into: URL(fileURLWithPath: folder))
        let file = "\(folder)/ferry-adapter-halfway"
        try #"""
            #!/usr/bin/env python3
            import json, os, sys
            from ferry_framing import read_message, write_message
            inp, out = sys.stdin.buffer, sys.stdout.buffer
            def send(i, result=None, binary=b"", error=None):
                body = {"jsonrpc": "2.0", "id": i}
                if error: body["error"] = error
                else: body["result"] = result
                write_message(out, body, binary)
            while True:
                message = read_message(inp)
                if message is None: sys.exit(0)
                req = json.loads(message[0]); i, m, p = req["id"], req["method"], req["params"]
                if m == "describe":
                    send(i, {"protocolVersion": 1, "name": "halfway", "kind": "source", "version": "1", "summary": "unreadable from the middle on",
                             "capabilities": ["discovery", "block-read"], "options": [{"name": "path", "type": "path", "required": True, "help": "a raw image"}]})
                elif m == "source.discover":
                    path = os.path.abspath(p["options"]["path"])
                    send(i, {"machines": [{"hostname": "half", "operatingSystem": {"family": "linux", "name": "", "version": ""}, "cpuCount": 1,
                             "memoryBytes": 0, "networkInterfaces": [], "disks": [{"name": "d", "sizeBytes": os.path.getsize(path), "locator": path, "isBoot": True}]}]})
                elif m == "source.openDisk":
                    send(i, {"handle": p["disk"]["locator"], "sizeBytes": os.path.getsize(p["disk"]["locator"])})
                elif m == "source.allocatedRanges":
                    send(i, {"ranges": [{"offset": 0, "length": os.path.getsize(p["handle"])}]})
                elif m == "source.read":
                    size = os.path.getsize(p["handle"])
                    if p["offset"] + p["length"] > size // 2:
                        send(i, error={"code": -32003, "message": "sector %d unreadable (simulated)" % (p["offset"] // 512)}); continue
                    with open(p["handle"], "rb") as f:
                        f.seek(p["offset"]); data = f.read(p["length"])
                    send(i, {"length": len(data)}, data)
                else:
                    send(i, {})
            """#.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o755)
    }

    /// `size` bytes of data that no format compresses away, in every 64 KiB block.
    func makeSource(_ name: String) throws -> String {
        var generator = SplitMix64(seed: 11)
        try Data(generator.bytes(Self.size)).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// An output from an earlier run that must survive a failed one, with its own mode.
    func makeExistingOutput(_ name: String) throws -> (path: String, bytes: Data) {
        let bytes = Data("an image from an earlier export, worth keeping\n".utf8) + Data(repeating: 0x42, count: 3 << 20)
        try bytes.write(to: URL(fileURLWithPath: path(name)))
        chmod(path(name), 0o600)
        return (path(name), bytes)
    }

    /// The hidden temporaries an export of `output` may leave: `.NAME…` beside it.
    func leftovers(of output: String) throws -> [String] {
        let name = URL(fileURLWithPath: output).lastPathComponent
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".\(name)") }
    }

    @Test(arguments: ["raw", "vmdk", "qcow2"])
    func aDiskExportThatFailsPartWayLeavesTheExistingOutputAsItWas(format: String) throws {
        let source = try makeSource("source.raw")
        let (output, before) = try makeExistingOutput("out.\(format)")
        let result = try ferry(["disk", "export", "--adapter", "halfway", "--option", "path=\(source)", "--format", format, "-o", output])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unreadable (simulated)"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before, "the earlier output was changed by a failed export")
        let left = try leftovers(of: output)
        #expect(left.isEmpty, "a temporary was left: \(left)")
    }

    @Test func aDiskExportThatSucceedsReplacesTheOutputAndKeepsItsMode() throws {
        let source = try makeSource("source.raw")
        let (output, _) = try makeExistingOutput("out.raw")
        let result = try ferry(["disk", "export", source, "-o", output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data(contentsOf: URL(fileURLWithPath: source)))
        let mode = try FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try leftovers(of: output).isEmpty)
    }

    @Test func aDiskExportToACharacterDeviceWritesToTheDevice() throws {
        let source = try makeSource("source.raw")
        let result = try ferry(["disk", "export", source, "-o", "/dev/null"])
        #expect(result.status == 0, "\(result.stderr)")
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "/dev/null is no longer a character device")
    }

    @Test func aSnapshotExportThatFailsPartWayLeavesTheExistingOutputAsItWas() throws {
        // A snapshot of the whole source, then its segment cut short: the chunks of the
        // second half can no longer be read.
        let source = try makeSource("source.raw")
        let server = try ReplicationServerProcess(workspace: workspace)
        defer { server.stop() }
        let token = try String(contentsOfFile: workspace + "/agent-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let agent = try ferry(["agent", "--server", "127.0.0.1:\(server.port)", "--token", token, "--disk", source, "--output", "json"])
        #expect(agent.status == 0, "\(agent.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data((agent.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any])
        let snapshot = try #require(summary["snapshot"] as? String)
        let segments = try #require(FileManager.default.enumerator(atPath: workspace)?.compactMap { $0 as? String }.filter { $0.contains("segments/") })
        #expect(segments.count == 1, "\(segments)")
        for segment in segments {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(workspace)/\(segment)"))
            try handle.truncate(atOffset: try handle.seekToEnd() / 2)
            try handle.close()
        }

        let (output, before) = try makeExistingOutput("snapshot.raw")
        let result = try ferry(["snapshot", "export", snapshot, "-o", output])
        #expect(result.status != 0)
        #expect(result.stderr.contains("before a chunk it indexes"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before, "the earlier output was changed by a failed export")
        let left = try leftovers(of: output)
        #expect(left.isEmpty, "a temporary was left: \(left)")
    }
}
