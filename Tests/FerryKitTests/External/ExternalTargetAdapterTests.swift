import Foundation
import Testing
@testable import FerryKit

/// A target plugin through the proxy: networking calls round-trip, a volume arrives block by
/// block as binary parts, and capabilities it did not claim never reach it.
@Suite("external target adapters", .serialized)
struct ExternalTargetAdapterTests {
    static let script = #"""
    #!/usr/bin/env python3
    import json, os, sys
    STORE = "@STORE@"
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    vpcs, imports = {}, {}

    def send(i, result=None, error=None):
        msg = {"jsonrpc": "2.0", "id": i}
        if error: msg["error"] = {"code": error[0], "message": error[1]}
        else: msg["result"] = result
        body = json.dumps(msg).encode()
        out.write(b"Content-Length: %d\r\n\r\n" % len(body) + body); out.flush()

    while True:
        headers = {}
        while True:
            line = inp.readline()
            if not line: sys.exit(0)
            if not line.strip(): break
            k, v = line.decode().split(":", 1); headers[k.strip().lower()] = int(v)
        req = json.loads(inp.read(headers["content-length"]))
        data = inp.read(headers.get("binary-length", 0))
        i, m, p = req["id"], req["method"], req["params"]
        if m == "describe":
            send(i, {"protocolVersion": 1, "name": "toycloud", "kind": "target", "version": "0.1.0", "summary": "a toy cloud",
                     "capabilities": ["networking", "volume-import"]})
        elif m == "networking.createVPC":
            vid = "vpc-%d" % (len(vpcs) + 1)
            vpcs[vid] = {"id": vid, "cidrBlock": p["cidrBlock"], "tags": p["tags"]}
            send(i, vpcs[vid])
        elif m == "networking.describeNetworks":
            send(i, {"vpcs": list(vpcs.values()), "subnets": [], "internetGateways": [], "routeTables": [], "securityGroups": []})
        elif m == "networking.deleteResource":
            if p["id"] not in vpcs: send(i, error=(-32001, "no such %s: %s" % (p["kind"], p["id"])))
            else: del vpcs[p["id"]]; send(i, {})
        elif m == "volumeImport.begin":
            iid = "imp-%d" % (len(imports) + 1)
            path = os.path.join(STORE, iid)
            with open(path, "wb") as f: f.truncate(p["sizeBytes"])
            imports[iid] = (path, p["sizeBytes"], p["tags"]); send(i, {"importID": iid})
        elif m == "volumeImport.write":
            path = imports[p["importID"]][0]
            assert len(data) == p["length"]
            with open(path, "r+b") as f: f.seek(p["offset"]); f.write(data)
            send(i, {})
        elif m == "volumeImport.commit":
            path, size, tags = imports[p["importID"]]
            send(i, {"id": "vol-" + os.path.basename(path), "kind": "volume", "sizeBytes": size, "tags": tags})
        elif m == "shutdown":
            send(i, {}); sys.exit(0)
        else:
            send(i, error=(-32601, "no method " + m))
    """#

    @Test func aTargetPluginServesItsCapabilitiesThroughTheRegistry() async throws {
        let directory = try FixturePlugin.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plugins = directory.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        let path = plugins.appendingPathComponent("ferry-adapter-toycloud").path
        try Self.script.replacingOccurrences(of: "@STORE@", with: directory.path).write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)

        var registry = AdapterRegistry()
        let inventory = PluginInventory.load(PluginSearchPath(directories: [plugins]).candidates(), into: &registry)
        #expect(inventory.broken.isEmpty, "\(inventory.broken)")
        let networking = try registry.networking(of: "toycloud")
        let vpc = try await networking.createVPC(cidrBlock: "10.1.0.0/16", tags: ["Name": "migration"])
        #expect(vpc == VPC(id: "vpc-1", cidrBlock: "10.1.0.0/16", tags: ["Name": "migration"]))
        #expect(try await networking.describeNetworks().vpcs == [vpc])
        // NotFound from a plugin is a "resource gone" error, as destroy needs.
        let gone = try await #require(throws: PluginError.self) { try await networking.deleteNetworkResource(CloudResource(kind: .vpc, id: "vpc-9")) }
        #expect(gone.isResourceNotFound)
        try await networking.deleteNetworkResource(CloudResource(kind: .vpc, id: vpc.id))

        // A volume: only the data ranges cross, as binary parts, and arrive intact.
        let image = directory.appendingPathComponent("disk.raw").path
        try FixturePlugin.writeImage(image, size: 9 << 20, regions: [ByteRange(offset: 4096, length: 5 << 20), ByteRange(offset: 8 << 20, length: 1000)])
        let source = try FileRegionReader(path: image)
        let imported = try await registry.volumeImport(of: "toycloud").importVolume(VolumeImportRequest(name: "disk", source: source, tags: ["k": "v"]), progress: nil)
        #expect(imported.sizeBytes == 9 << 20)
        #expect(imported.tags == ["k": "v"])
        let stored = try Data(contentsOf: directory.appendingPathComponent(String(imported.id.dropFirst(4))))
        #expect(stored == (try Data(contentsOf: URL(fileURLWithPath: image))))

        // Capabilities it did not claim are refused by the registry, before any call.
        #expect(throws: AdapterError.self) { try registry.compute(of: "toycloud") }
        inventory.loaded.values.forEach { $0.shutdown() }
    }
}
