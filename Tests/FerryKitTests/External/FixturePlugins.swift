import Foundation
import FerryTestSupport
import FerryCore
@testable import FerryKit

/// Plugins written for the tests: a small, correct source adapter over a raw file (option
/// `path`), and the same adapter misbehaving in one chosen way.
enum FixturePlugin {
    enum Behaviour: String, CaseIterable {
        case good
        /// Dies in the middle of answering `source.read`, after saying why on stderr.
        case crashOnRead = "crash-on-read"
        /// Never answers `source.discover`.
        case hangOnDiscover = "hang-on-discover"
        /// Sends one byte fewer than a read asked for.
        case shortRead = "short-read"
        /// Says `length` is one more than it sent.
        case wrongLengthField = "wrong-length-field"
        /// Claims a range reaching past the end of the disk.
        case rangesPastEnd = "ranges-past-end"
        /// Reports one size in discovery and another when the disk is opened.
        case sizeMismatch = "size-mismatch"
        /// Claims no range is allocated, while the disk holds data.
        case rangesHideData = "ranges-hide-data"
        /// Returns different bytes each time.
        case nondeterministic
        /// Answers reads past the end with zeros instead of refusing.
        case readsPastEnd = "reads-past-end"
        /// Speaks protocol version 2.
        case wrongVersion = "wrong-version"
        /// Refuses every version Ferry offers, as the protocol says.
        case refusesVersion = "refuses-version"
        /// Prints text to stdout instead of protocol messages.
        case garbage
        /// Exits before answering `describe`.
        case exitsAtStart = "exits-at-start"
        /// Describes itself under another name than its executable's.
        case wrongName = "wrong-name"
        /// Claims a range whose end overflows 64 bits.
        case rangesOverflow = "ranges-overflow"
        /// Starts a helper process, writes its pid next to the image, then never answers.
        case hangWithHelper = "hang-with-helper"
        /// Reports its blocked and ignored signals (from /proc/self/status) as its hostname.
        case reportsSignals = "reports-signals"
        /// Allows three processes at once, and notes its pid next to the image at each read.
        case parallel
        /// Crashes like `crashOnRead` at a process's third read, once: a file next to the
        /// image (`.crashed`) remembers that it did, across processes.
        case crashOnce = "crash-once"
        /// Starts `sleep 1000` (its pid next to the image, `.helper`) at its first read and
        /// crashes, leaving the helper holding its stdout; reads normally after that.
        case helperThenCrash = "helper-then-crash"
        /// Starts `sleep 1000` (its pid next to the image, `.helper`) at discovery, answers
        /// everything, and exits normally when asked to.
        case helperThenExit = "helper-then-exit"
        /// Claims change tracking; the stamp is the image's size and modification time.
        case stamped
        /// Claims change tracking; the stamp is the time of the call, so it never holds still.
        case restlessStamp = "restless-stamp"
        /// Claims change tracking; the stamp never changes, whatever is written.
        case frozenStamp = "frozen-stamp"
    }

    /// Writes `ferry-adapter-<name>`, and the framing module it imports, into `directory`
    /// and returns the plugin's path.
    @discardableResult
    static func write(_ behaviour: Behaviour, name: String, in directory: URL) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try PythonPluginFraming.write(into: directory)
        let path = directory.appendingPathComponent(PluginProtocol.executablePrefix + name).path
        let text = script.replacingOccurrences(of: "@BEHAVIOUR@", with: behaviour.rawValue).replacingOccurrences(of: "@NAME@", with: name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    /// Writes `behaviour` as plugin `name` into a folder of `directory`, loads it, and
    /// discovers the raw image at `image` through it.
    static func load(_ behaviour: Behaviour, name: String = "fixture", in directory: URL, image: String,
                     timeouts: PluginTimeouts) async throws -> (ExternalSourceAdapter, AdapterConfiguration, DiskFacts) {
        let path = try write(behaviour, name: name, in: directory.appendingPathComponent(behaviour.rawValue))
        let adapter = ExternalSourceAdapter(plugin: try ExternalPlugin.load(path: path, name: name, timeouts: timeouts))
        let configuration = try AdapterConfiguration(["path": image], for: adapter.descriptor)
        guard let disk = try await adapter.discoverMachines(configuration: configuration).first?.disks.first else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: image])
        }
        return (adapter, configuration, disk)
    }

    /// Whether process `pid` is gone (or a zombie waiting for a parent that reaps: this
    /// container's pid 1 may not), waiting up to 5 s for it to go.
    static func isGone(_ pid: pid_t) -> (gone: Bool, state: String) {
        let deadline = Date().addingTimeInterval(5)
        var state = "?"
        repeat {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            state = stat.split(separator: ")").last?.split(separator: " ").first.map(String.init) ?? "gone"
            if state == "gone" || state == "Z" { return (true, state) }
            usleep(50_000)
        } while Date() < deadline
        return (false, state)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-plugins-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A raw image of `size` bytes with random data in `regions`, written sparse.
    static func writeImage(_ path: String, size: UInt64, regions: [ByteRange], seed: UInt64 = 7) throws {
        try SparseImage.write(path, size: size, regions: regions.map { ($0.offset, Int($0.length)) }, seed: seed)
    }

    static let script = #"""
    #!/usr/bin/env python3
    # A test plugin for Ferry's plugin protocol; BEHAVIOUR picks how it misbehaves.
    import json, os, sys, time
    from ferry_framing import read_message, write_message
    BEHAVIOUR = "@BEHAVIOUR@"
    NAME = "@NAME@"
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    handles = {}

    def send(obj, binary=b""):
        write_message(out, obj, binary)

    def error(i, code, message):
        send({"jsonrpc": "2.0", "id": i, "error": {"code": code, "message": message}})

    reads = 0
    STAMPED = BEHAVIOUR in ("stamped", "restless-stamp", "frozen-stamp")

    def start_helper(path):
        import subprocess
        helper = subprocess.Popen(["sleep", "1000"])
        with open(path + ".helper", "w") as f: f.write(str(helper.pid))

    def crash(offset):
        sys.stderr.write("reading sector %d: segmentation fault (simulated)\n" % (offset // 512)); sys.stderr.flush()
        out.write(b"Content-Length: 40\r\n\r\n{\"jsonrpc\""); out.flush(); os._exit(3)

    if BEHAVIOUR == "exits-at-start":
        sys.stderr.write("cannot start: missing configuration\n"); sys.exit(2)

    while True:
        message = read_message(inp)
        if message is None: sys.exit(0)
        req = json.loads(message[0])
        i, m, p = req.get("id"), req.get("method"), req.get("params", {})
        if m == "describe":
            if BEHAVIOUR == "garbage":
                out.write(b"Hello! I am a plugin and I like to talk.\n" * 40); out.flush(); continue
            if BEHAVIOUR == "refuses-version":
                send({"jsonrpc": "2.0", "id": i, "error": {"code": -32010, "message": "I speak only version 2", "data": {"supported": [2]}}}); continue
            send({"jsonrpc": "2.0", "id": i, "result": {
                "protocolVersion": 2 if BEHAVIOUR == "wrong-version" else 1,
                "name": "someone-else" if BEHAVIOUR == "wrong-name" else NAME,
                "kind": "source", "version": "0.0.1", "summary": "test plugin (%s)" % BEHAVIOUR,
                "parallelProcesses": 3 if BEHAVIOUR == "parallel" else 1,
                "capabilities": ["discovery", "block-read"] + (["change-tracking"] if STAMPED else []),
                "options": [{"name": "path", "type": "path", "required": True, "help": "a raw image"}]}})
        elif m == "source.discover":
            if BEHAVIOUR == "hang-on-discover":
                time.sleep(3600)
            path = p["options"].get("path", "")
            if BEHAVIOUR == "hang-with-helper":
                import subprocess
                helper = subprocess.Popen(["sleep", "3600"])
                with open(path + ".helper", "w") as f: f.write(str(helper.pid))
                time.sleep(3600)
            if BEHAVIOUR == "reports-signals":
                status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
                size = os.path.getsize(path)
                send({"jsonrpc": "2.0", "id": i, "result": {"machines": [{
                    "hostname": "blocked-%s-ignored-%s" % (status["SigBlk"].strip(), status["SigIgn"].strip()),
                    "operatingSystem": {"family": "unknown", "name": "", "version": ""}, "cpuCount": 1, "memoryBytes": 0,
                    "networkInterfaces": [], "disks": [{"name": "disk0", "sizeBytes": size, "locator": path, "isBoot": True}]}]}})
                continue
            if not os.path.isfile(path):
                error(i, -32004, "no such image: %s" % path); continue
            if BEHAVIOUR == "helper-then-exit":
                start_helper(path)
            size = os.path.getsize(path)
            send({"jsonrpc": "2.0", "id": i, "result": {"machines": [{
                "hostname": os.path.basename(path).split(".")[0], "operatingSystem": {"family": "unknown", "name": "", "version": ""},
                "cpuCount": 1, "memoryBytes": 1 << 30, "networkInterfaces": [],
                "disks": [{"name": "disk0", "sizeBytes": size, "locator": os.path.abspath(path), "isBoot": True}]}]}})
        elif m == "source.openDisk":
            locator = p["disk"]["locator"]
            handle = str(len(handles) + 1)
            handles[handle] = (os.open(locator, os.O_RDONLY), os.path.getsize(locator), locator)
            size = handles[handle][1] + (4096 if BEHAVIOUR == "size-mismatch" else 0)
            send({"jsonrpc": "2.0", "id": i, "result": {"handle": handle, "sizeBytes": size}})
        elif m == "source.allocatedRanges":
            fd, size = handles[p["handle"]][:2]
            if BEHAVIOUR == "ranges-past-end": ranges = [{"offset": 0, "length": size + 65536}]
            elif BEHAVIOUR == "ranges-overflow": ranges = [{"offset": 1, "length": 18446744073709551615}]
            elif BEHAVIOUR == "ranges-hide-data": ranges = []
            else: ranges = [{"offset": 0, "length": size}]
            send({"jsonrpc": "2.0", "id": i, "result": {"ranges": ranges}})
        elif m == "source.read":
            fd, size = handles[p["handle"]][:2]
            offset, length = p["offset"], p["length"]
            if offset + length > size and BEHAVIOUR != "reads-past-end":
                error(i, -32002, "read past the end"); continue
            data = os.pread(fd, length, offset).ljust(length, b"\0")
            if BEHAVIOUR == "parallel":
                start = time.time(); time.sleep(0.02)
                with open(handles[p["handle"]][2] + ".pids", "a") as f: f.write("%d %f %f\n" % (os.getpid(), start, time.time()))
            reads += 1
            locator = handles[p["handle"]][2]
            if BEHAVIOUR == "crash-on-read":
                with open(locator + ".crashes", "a") as f: f.write("%d\n" % os.getpid())
                crash(offset)
            if BEHAVIOUR == "crash-once" and reads == 3 and not os.path.exists(locator + ".crashed"):
                open(locator + ".crashed", "w").close()
                crash(offset)
            if BEHAVIOUR == "helper-then-crash" and not os.path.exists(locator + ".helper"):
                start_helper(locator)
                crash(offset)
            if BEHAVIOUR == "short-read":
                send({"jsonrpc": "2.0", "id": i, "result": {"length": length - 1}}, data[:-1]); continue
            if BEHAVIOUR == "wrong-length-field":
                send({"jsonrpc": "2.0", "id": i, "result": {"length": length + 1}}, data); continue
            if BEHAVIOUR == "nondeterministic":
                data = os.urandom(length)
            send({"jsonrpc": "2.0", "id": i, "result": {"length": length}}, data)
        elif m == "source.changeStamp" and STAMPED:
            st = os.stat(p["disk"]["locator"])
            if BEHAVIOUR == "restless-stamp": stamp = str(time.time_ns())
            elif BEHAVIOUR == "frozen-stamp": stamp = "always the same"
            else: stamp = "%d-%d" % (st.st_size, st.st_mtime_ns)
            send({"jsonrpc": "2.0", "id": i, "result": {"stamp": stamp}})
        elif m == "source.closeDisk":
            fd = handles.pop(p["handle"])[0]; os.close(fd)
            send({"jsonrpc": "2.0", "id": i, "result": {}})
        elif m == "shutdown":
            send({"jsonrpc": "2.0", "id": i, "result": {}}); sys.exit(0)
        else:
            error(i, -32601, "no method %s" % m)
    """#
}
