import Foundation
import Testing
import FerryCore
@testable import FerryKit

/// A target plugin through the proxy: every capability's calls round-trip, a volume arrives
/// block by block as binary parts, and capabilities it did not claim never reach it.
@Suite("external target adapters", .serialized)
struct ExternalTargetAdapterTests {
    static let script = #"""
    #!/usr/bin/env python3
    import json, os, sys
    from ferry_framing import read_message, write_message
    STORE = "@STORE@"
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    vpcs, imports, images, instances = {}, {}, {}, {}

    def send(i, result=None, error=None):
        msg = {"jsonrpc": "2.0", "id": i}
        if error: msg["error"] = {"code": error[0], "message": error[1]}
        else: msg["result"] = result
        write_message(out, msg)

    while True:
        message = read_message(inp)
        if message is None: sys.exit(0)
        req, data = json.loads(message[0]), message[1]
        i, m, p = req["id"], req["method"], req["params"]
        if m == "describe":
            name = os.path.basename(sys.argv[0])[len("ferry-adapter-"):]
            send(i, {"protocolVersion": 1, "name": name, "kind": "target", "version": "0.1.0", "summary": "a toy cloud",
                     "capabilities": ["networking"] if name == "toynet" else ["networking", "volume-import", "identity", "images", "compute", "instance-disks"]})
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
        elif m == "identity.createUser":
            send(i, {"name": p["name"], "id": "AID" + p["name"].upper(), "arn": "arn:toy:iam::1:user/" + p["name"]})
        elif m == "identity.putUserPolicy":
            with open(os.path.join(STORE, "policy.json"), "w") as f: json.dump(p["document"], f)
            send(i, {})
        elif m == "identity.createAccessKey":
            send(i, {"accessKeyID": "AKTOY", "userName": p["userName"], "secret": "toy-secret-123"})
        elif m == "identity.workbenchPolicy":
            send(i, {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["toy:Launch"], "Resource": ["*"]}]})
        elif m == "identity.deleteUser":
            send(i, {})
        elif m == "images.register":
            image = {"id": "ami-1", "name": p["name"], "bootMode": p["bootMode"], "volumeIDs": [p["rootVolume"]["id"]] + [v["id"] for v in p["additionalVolumes"]], "tags": p["tags"]}
            images[image["id"]] = image; send(i, image)
        elif m == "images.describe":
            send(i, {"images": list(images.values())})
        elif m == "images.deregister":
            images.pop(p["id"], None); send(i, {})
        elif m == "compute.launch":
            s = p["settings"]
            inst = {"id": "i-1", "imageID": p["imageID"], "instanceType": s["instanceType"], "state": "running", "subnetID": s.get("subnetID"),
                    "privateIPAddress": s.get("privateIP") or "10.0.0.9", "securityGroupIDs": s["securityGroupIDs"], "tags": s["tags"], "launchedAt": 1700000000}
            instances[inst["id"]] = inst; send(i, inst)
        elif m in ("compute.describe", "compute.stop", "compute.start", "compute.terminate"):
            if p["id"] not in instances: send(i, error=(-32001, "no instance " + p["id"])); continue
            inst = instances[p["id"]]
            inst["state"] = {"compute.stop": "stopped", "compute.start": "running", "compute.terminate": "terminated"}.get(m, inst["state"])
            send(i, inst)
        elif m == "compute.describeAll":
            send(i, {"instances": list(instances.values())})
        elif m == "compute.firstBootStatus":
            send(i, {"status": "SUCCEEDED"})
        elif m == "compute.endpoint":
            send(i, error=(-32001, "instance %s has no address reachable from here" % p["id"]))
        elif m == "instanceDisks.list":
            send(i, {"disks": [{"name": "vda", "sizeBytes": 1048576, "locator": os.path.join(STORE, "disk.raw"), "isBoot": True}]})
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
        try PythonPluginFraming.write(into: plugins)
        for name in ["toycloud", "toynet"] {
            let path = plugins.appendingPathComponent("ferry-adapter-\(name)").path
            try Self.script.replacingOccurrences(of: "@STORE@", with: directory.path).write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }

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

        // Identity: the secret arrives wrapped, never printed.
        let identity = try registry.identity(of: "toycloud")
        #expect(try await identity.createUser(name: "ferry", tags: [:]) == IdentityUser(name: "ferry", id: "AIDFERRY", arn: "arn:toy:iam::1:user/ferry"))
        try await identity.putUserPolicy(userName: "ferry", policyName: "p", document: identity.workbenchPolicy)
        #expect(identity.workbenchPolicy.statements.first?.actions == ["toy:Launch"])
        // The document reaches the plugin in IAM's spelling.
        let policy = try JSONDecoder().decode(PolicyDocument.self, from: Data(contentsOf: directory.appendingPathComponent("policy.json")))
        #expect(policy == identity.workbenchPolicy)
        let key = try await identity.createAccessKey(userName: "ferry")
        #expect(key.secret.reveal() == "toy-secret-123")
        #expect(!"\(key)".contains("toy-secret-123"))

        // Images and compute, with launch settings as the protocol spells them.
        let machineImage = try await registry.images(of: "toycloud").registerImage(name: "web", rootVolume: imported, additionalVolumes: [], bootMode: .uefi, tags: ["a": "b"])
        #expect(machineImage.volumeIDs == [imported.id])
        #expect(machineImage.bootMode == .uefi)
        let compute = try registry.compute(of: "toycloud")
        let instance = try await compute.launchInstance(imageID: machineImage.id, settings: LaunchSettings(instanceType: "toy.small", subnetID: "subnet-1", privateIPPolicy: .fixed("10.0.0.5")), userData: nil, name: "web")
        #expect(instance.privateIPAddress == "10.0.0.5")
        #expect(instance.launchedAt == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(try await compute.stopInstance(id: instance.id).state == .stopped)
        #expect(try await compute.firstBootStatus(id: instance.id) == .succeeded)
        // An instance the plugin cannot reach from here is said the way compute says it.
        await #expect(throws: NoReachableEndpoint.self) { try await compute.endpoint(instanceID: instance.id, port: 80) }
        // The source's own address must be resolved before launch, as for every target.
        await #expect(throws: PluginError.self) {
            try await compute.launchInstance(imageID: machineImage.id, settings: LaunchSettings(privateIPPolicy: .copyFromSource), userData: nil, name: nil)
        }
        #expect(try await compute.terminateInstance(id: instance.id).state == .terminated)
        #expect(try await registry.instanceDisks(of: "toycloud").instanceDisks(instanceID: instance.id).first?.name == "vda")
        let missing = try await #require(throws: PluginError.self) { try await compute.describeInstance(id: "i-9") }
        #expect(missing.isResourceNotFound)

        // Capabilities a plugin did not claim are refused by the registry, and by the proxy
        // itself, before anything reaches the plugin.
        #expect(throws: AdapterError.self) { try registry.compute(of: "toynet") }
        let toynet = try #require(registry.adapters(kind: .target).first { $0.descriptor.name == "toynet" } as? ExternalTargetAdapter)
        await #expect(throws: AdapterError.self) { try await toynet.describeInstances() }
        inventory.loaded.values.forEach { $0.shutdown() }
    }

    /// A disk that runs `hook` once, before its `at`-th read.
    final class HookedDisk: BlockReader, @unchecked Sendable {
        let inner: any BlockReader
        let at: Int
        let hook: () -> Void
        private var reads = 0
        init(_ inner: any BlockReader, at: Int, hook: @escaping () -> Void) {
            self.inner = inner
            self.at = at
            self.hook = hook
        }
        var size: UInt64 { inner.size }
        func allocatedRanges() throws -> [ByteRange] { try inner.allocatedRanges() }
        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
            reads += 1
            if reads == at { hook() }
            try inner.read(into: buffer, at: offset)
        }
    }

    @Test func anImportWhoseProcessWasStartedAgainMeanwhileIsAbandoned() async throws {
        let directory = try FixturePlugin.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ferry-adapter-toycloud").path
        try PythonPluginFraming.write(into: directory)
        try Self.script.replacingOccurrences(of: "@STORE@", with: directory.path).write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        let plugin = try ExternalPlugin.load(path: path, name: "toycloud", timeouts: PluginTimeouts(describe: 5, call: 5, targetCall: 5))
        defer { plugin.shutdown() }
        let image = directory.appendingPathComponent("disk.raw").path
        try FixturePlugin.writeImage(image, size: 12 << 20, regions: [ByteRange(offset: 0, length: 12 << 20)])
        // Between two steps of the import, another call kills the plugin's one process (a
        // write to an import it does not know ends it with a Python traceback), and the
        // pool starts a new one, which knows nothing of the import under way.
        let source = HookedDisk(try FileRegionReader(path: image), at: 2) {
            struct Write: Encodable { var importID = "imp-404"; var offset = 0; var length = 0 }
            _ = try? plugin.withConnection { try $0.call("volumeImport.write", Write(), as: PluginEmpty.self) }
        }
        let error = try await #require(throws: PluginError.self) {
            try await ExternalTargetAdapter(plugin: plugin).importVolume(VolumeImportRequest(name: "disk", source: source, tags: [:]), progress: nil)
        }
        #expect(plugin.restartCount == 1)
        #expect(error.description.contains("this import is abandoned"), "\(error)")
        // The plugin itself is still in use, in its new process.
        #expect(try await ExternalTargetAdapter(plugin: plugin).describeNetworks().vpcs.isEmpty)
    }
}
