import Foundation

/// Writes the files of a new external adapter: an executable `ferry-adapter-NAME` speaking the
/// plugin protocol (docs/plugin-protocol.md), in Python or Swift, behind
/// `ferry adapter new NAME --kind source --lang python|swift`.
///
/// The scaffold is a complete source adapter for raw disk images (option `path`; one disk,
/// "disk0"; holes found with SEEK_DATA/SEEK_HOLE; reads with pread), so it passes
/// `ferry adapter test` as generated. `TODO:` comments mark where a team plugs in its own
/// format and discovery.
public struct AdapterScaffold: Sendable {
    public enum Language: String, CaseIterable, Sendable {
        case python
        case swift
    }

    /// The adapter's name: `[a-z][a-z0-9-]*`, the NAME in `ferry-adapter-NAME`.
    public var name: String
    /// Only `.source`: there is no target scaffold yet.
    public var kind: AdapterKind
    public var language: Language

    public init(name: String, kind: AdapterKind, language: Language) throws {
        guard Self.isValidName(name) else { throw AdapterScaffoldError.invalidName(name) }
        guard kind == .source else { throw AdapterScaffoldError.unsupportedKind(kind) }
        self.name = name
        self.kind = kind
        self.language = language
    }

    /// Whether `name` matches `^[a-z][a-z0-9-]*$`, as the protocol requires of an adapter name.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// The name of the executable Ferry looks for.
    public var executableName: String { "ferry-adapter-\(name)" }

    /// Where the executable `ferry-adapter-NAME` ends up once built, relative to the directory
    /// the scaffold was written to.
    public var executablePath: String {
        switch language {
        case .python: return executableName
        case .swift: return ".build/release/\(executableName)"
        }
    }

    /// The command that builds the executable, run in the scaffold's directory; nil when there
    /// is nothing to build (Python).
    public var buildCommand: String? {
        switch language {
        case .python: return nil
        case .swift: return "swift build -c release"
        }
    }

    /// One file of the scaffold: its path relative to the scaffold's directory and its text.
    struct File: Sendable, Equatable {
        var path: String
        var contents: String
        var isExecutable = false
    }

    /// The files `write(to:)` writes, in order.
    var files: [File] {
        func fill(_ template: String) -> String { template.replacingOccurrences(of: "__NAME__", with: name) }
        switch language {
        case .python:
            return [
                File(path: executableName, contents: fill(AdapterScaffoldTemplates.pythonAdapter), isExecutable: true),
                File(path: "README.md", contents: fill(AdapterScaffoldTemplates.pythonReadme)),
            ]
        case .swift:
            return [
                File(path: "Package.swift", contents: fill(AdapterScaffoldTemplates.swiftPackage)),
                File(path: "Sources/\(executableName)/main.swift", contents: fill(AdapterScaffoldTemplates.swiftAdapter)),
                File(path: "README.md", contents: fill(AdapterScaffoldTemplates.swiftReadme)),
                File(path: ".gitignore", contents: fill(AdapterScaffoldTemplates.swiftGitignore)),
            ]
        }
    }

    /// Writes into `directory` (created; refuses if it exists and is not empty) and returns the
    /// written files' paths, relative.
    @discardableResult
    public func write(to directory: URL) throws -> [String] {
        let fileManager = FileManager.default
        let directoryPath = directory.path
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: directoryPath, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw AdapterScaffoldError.notADirectory(directoryPath) }
            let contents = try fileManager.contentsOfDirectory(atPath: directoryPath)
            guard contents.isEmpty else {
                throw AdapterScaffoldError.directoryNotEmpty(directoryPath, contents: contents.sorted())
            }
        }
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for file in files {
            let url = directory.appendingPathComponent(file.path)
            try fileManager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: url)
            if file.isExecutable {
                try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
            }
            written.append(file.path)
        }
        return written
    }
}

/// Why a scaffold cannot be made or written.
public enum AdapterScaffoldError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case invalidName(String)
    case unsupportedKind(AdapterKind)
    case notADirectory(String)
    case directoryNotEmpty(String, contents: [String])

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "'\(name)' is not a valid adapter name: it must start with a lowercase letter and contain only "
                + "lowercase letters, digits and '-' (it becomes the executable ferry-adapter-NAME)"
        case .unsupportedKind(let kind):
            return "\(kind.rawValue) adapter scaffolds are not available yet (only --kind source); a \(kind.rawValue) "
                + "plugin implements the methods of its capabilities as described under \"Target methods\" in "
                + "docs/plugin-protocol.md"
        case .notADirectory(let path):
            return "\(path) exists and is not a directory"
        case .directoryNotEmpty(let path, let contents):
            let shown = contents.prefix(5).joined(separator: ", ") + (contents.count > 5 ? ", ..." : "")
            return "\(path) already exists and is not empty (\(shown)); choose a new or empty directory"
        }
    }

    public var errorDescription: String? { description }
}

/// The scaffold's files, with `__NAME__` where the adapter's name goes. Each template is the
/// file's exact text: raw strings, so backslashes and `\(...)` stay as they are.
enum AdapterScaffoldTemplates {
    /// ferry-adapter-NAME (Python 3, standard library only).
    static let pythonAdapter = #"""
#!/usr/bin/env python3
# ferry-adapter-__NAME__: a Ferry source adapter, speaking the Ferry plugin protocol, version 1
# (docs/plugin-protocol.md in the Ferry repository).
#
# As generated, it serves raw disk images: option `path` is a raw image file (or a block
# device); the machine is named after the file (or option `hostname`) and has one disk,
# "disk0". It passes `ferry adapter test __NAME__ --option path=disk.img` as it is.
#
# To make it read your own format, look for the TODO comments:
#   - describe():         summary, version and the options your adapter takes;
#   - discover():         which machines and disks `options` point at, and their facts;
#   - DiskReader:         how a disk is opened, which ranges hold data, how bytes are read.
# The protocol code (framing, JSON-RPC, errors) should not need changes.
#
# Python 3.8 or later, standard library only. stdout carries protocol messages only: log
# with log() (stderr); a stray print() is sent to stderr too, never to Ferry.

import errno
import json
import os
import stat
import sys
import traceback

NAME = "__NAME__"
VERSION = "0.1.0"  # TODO: your adapter's version
PROTOCOL_VERSION = 1

MAX_HEADER_BLOCK = 1024
MAX_JSON = 16 * 1024 * 1024
MAX_BINARY = 16 * 1024 * 1024
MAX_READ = 4 * 1024 * 1024

# Error codes (docs/plugin-protocol.md, "Errors").
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
NOT_FOUND = -32001
OUT_OF_BOUNDS = -32002
IO_ERROR = -32003
INVALID_OPTION = -32004
UNSUPPORTED = -32005
CORRUPT = -32006
UNSUPPORTED_PROTOCOL_VERSION = -32010


def log(*parts):
    """Logs to stderr: Ferry keeps the last 8 KiB and shows them when the plugin fails."""
    print(NAME + ":", *parts, file=sys.stderr, flush=True)


class RPCError(Exception):
    """An error answered to Ferry: `code` from the table above, `message` for people."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def invalid_option(option, message):
    return RPCError(INVALID_OPTION, message, {"option": option})


# ----------------------------------------------------------------------------------------
# Params


def param(params, name, kind, required=True):
    """The param `name` of type `kind` ("string", "int", "object", "list"); InvalidParams otherwise."""
    value = params.get(name)
    if value is None:
        if required:
            raise RPCError(INVALID_PARAMS, "missing param '%s'" % name)
        return None
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RPCError(INVALID_PARAMS, "param '%s' must be an integer" % name)
        return value
    expected = {"string": str, "object": dict, "list": list}[kind]
    if not isinstance(value, expected):
        raise RPCError(INVALID_PARAMS, "param '%s' must be a%s %s" % (name, "n" if kind == "object" else "", kind))
    return value


def options_of(params):
    options = param(params, "options", "object", required=False) or {}
    for key, value in options.items():
        if not isinstance(value, str):
            raise RPCError(INVALID_PARAMS, "option '%s' must be a string" % key)
    return options


# ----------------------------------------------------------------------------------------
# The source: raw disk images. TODO: replace with your own format and discovery.


def image_size(fd):
    """The size of an open image file or block device."""
    return os.lseek(fd, 0, os.SEEK_END)


def check_image(path, option="path"):
    """Opens `path` to check that it is a readable, non-empty image; returns its size."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise invalid_option(option, "%s does not exist" % path)
    except OSError as error:
        raise invalid_option(option, "cannot read %s: %s" % (path, error.strerror))
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        raise invalid_option(option, "%s is not a file or a block device" % path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise invalid_option(option, "cannot read %s: %s" % (path, error.strerror))
    try:
        size = image_size(fd)
    finally:
        os.close(fd)
    if size == 0:
        raise invalid_option(option, "%s is empty" % path)
    return size


def discover(options):
    """The machines `options` point at, as MachineFacts (docs/plugin-protocol.md, "Types")."""
    # TODO: find your machines here: one per image, per folder entry, per VM in an export...
    path = options.get("path")
    if not path:
        raise invalid_option("path", "option 'path' is required: a raw disk image")
    path = os.path.abspath(path)
    size = check_image(path)
    hostname = options.get("hostname") or os.path.splitext(os.path.basename(path))[0] or "machine"
    return [{
        "hostname": hostname,
        # TODO: fill in what your format knows: OS, CPUs, memory, NICs, boot mode.
        "operatingSystem": {"family": "unknown", "name": "", "version": ""},
        "cpuCount": 0,
        "memoryBytes": 0,
        "networkInterfaces": [],
        "disks": [{
            "name": "disk0",
            "sizeBytes": size,  # must be what source.openDisk reports for this disk
            "locator": path,  # whatever you need to find the disk again; opaque to Ferry
            "isBoot": True,
        }],
    }]


class DiskReader:
    """One open disk. TODO: for another format, map virtual offsets to your file's bytes here."""

    def __init__(self, name, locator):
        self.name = name
        self.locator = locator
        try:
            self.fd = os.open(locator, os.O_RDONLY)
        except FileNotFoundError:
            raise RPCError(NOT_FOUND, "disk %s: %s does not exist" % (name, locator), {"kind": "disk", "id": name})
        except OSError as error:
            raise RPCError(IO_ERROR, "disk %s: cannot open %s: %s" % (name, locator, error.strerror))
        self.size = image_size(self.fd)

    def allocated_ranges(self):
        """The ranges that may hold data, sorted and not overlapping; everything else reads as zeros."""
        seek_data = getattr(os, "SEEK_DATA", None)
        seek_hole = getattr(os, "SEEK_HOLE", None)
        whole = [{"offset": 0, "length": self.size}]
        if seek_data is None or seek_hole is None:
            return whole
        ranges = []
        offset = 0
        while offset < self.size:
            try:
                start = os.lseek(self.fd, offset, seek_data)
            except OSError as error:
                if error.errno == errno.ENXIO:  # no data after offset
                    break
                return whole  # the file system cannot tell (EINVAL, EOPNOTSUPP, ...)
            if start >= self.size:
                break
            try:
                end = os.lseek(self.fd, start, seek_hole)
            except OSError:
                return whole
            end = min(end, self.size)
            if end <= start:
                return whole
            ranges.append({"offset": start, "length": end - start})
            offset = end
        return ranges

    def read(self, offset, length):
        """Exactly `length` bytes at `offset` (the caller has checked the bounds)."""
        chunks = []
        done = 0
        while done < length:
            try:
                chunk = os.pread(self.fd, length - done, offset + done)
            except OSError as error:
                raise RPCError(IO_ERROR, "disk %s: read at %d failed: %s" % (self.name, offset + done, error.strerror))
            if not chunk:
                raise RPCError(IO_ERROR, "disk %s: %s ended at %d, before the disk's end (%d); did it shrink?"
                               % (self.name, self.locator, offset + done, self.size))
            chunks.append(chunk)
            done += len(chunk)
        return b"".join(chunks)

    def close(self):
        os.close(self.fd)


# ----------------------------------------------------------------------------------------
# Methods


class Adapter:
    def __init__(self):
        self.disks = {}  # handle -> DiskReader
        self.next_handle = 1

    def describe(self, params):
        offered = param(params, "protocolVersions", "list")
        if PROTOCOL_VERSION not in offered:
            raise RPCError(UNSUPPORTED_PROTOCOL_VERSION,
                           "this adapter speaks protocol version %d; Ferry offered %s" % (PROTOCOL_VERSION, offered),
                           {"supported": [PROTOCOL_VERSION]})
        return {
            "protocolVersion": PROTOCOL_VERSION,
            "name": NAME,
            "kind": "source",
            "version": VERSION,
            "summary": "Raw disk images",  # TODO: one line about your source
            "capabilities": ["discovery", "block-read"],
            # TODO: the options your adapter takes (type: string, integer, boolean, path, choice).
            "options": [
                {"name": "path", "type": "path", "required": True, "help": "a raw disk image"},
                {"name": "hostname", "type": "string",
                 "help": "the machine's name (default: the image's file name without its extension)"},
            ],
        }

    def source_discover(self, params):
        return {"machines": discover(options_of(params))}

    def source_open_disk(self, params):
        options_of(params)  # TODO: use the options if opening a disk needs them (credentials...)
        disk = param(params, "disk", "object")
        name = param(disk, "name", "string")
        locator = param(disk, "locator", "string")
        reader = DiskReader(name, locator)
        handle = "h%d" % self.next_handle
        self.next_handle += 1
        self.disks[handle] = reader
        return {"handle": handle, "sizeBytes": reader.size}

    def disk(self, params):
        handle = param(params, "handle", "string")
        reader = self.disks.get(handle)
        if reader is None:
            raise RPCError(NOT_FOUND, "no open disk with handle '%s'" % handle, {"kind": "handle", "id": handle})
        return handle, reader

    def source_allocated_ranges(self, params):
        _, reader = self.disk(params)
        return {"ranges": reader.allocated_ranges()}

    def source_read(self, params):
        _, reader = self.disk(params)
        offset = param(params, "offset", "int")
        length = param(params, "length", "int")
        if offset < 0:
            raise RPCError(INVALID_PARAMS, "offset must not be negative, not %d" % offset)
        if length < 1 or length > MAX_READ:
            raise RPCError(INVALID_PARAMS, "length must be between 1 and %d, not %d" % (MAX_READ, length))
        if offset + length > reader.size:
            raise RPCError(OUT_OF_BOUNDS, "disk %s: a read of %d bytes at %d reaches past its end (%d bytes)"
                           % (reader.name, length, offset, reader.size),
                           {"offset": offset, "length": length, "sizeBytes": reader.size})
        data = reader.read(offset, length)
        return {"length": len(data)}, data

    def source_close_disk(self, params):
        handle, reader = self.disk(params)
        del self.disks[handle]
        reader.close()
        return {}

    # TODO: with "change-tracking" in capabilities, add "source.changeStamp" here: a string
    # that changes whenever the disk may have changed (size and modification time, say).

    def shutdown(self, params):
        return {}

    def close_all(self):
        for reader in self.disks.values():
            try:
                reader.close()
            except OSError:
                pass
        self.disks.clear()

    METHODS = {
        "describe": describe,
        "source.discover": source_discover,
        "source.openDisk": source_open_disk,
        "source.allocatedRanges": source_allocated_ranges,
        "source.read": source_read,
        "source.closeDisk": source_close_disk,
        "shutdown": shutdown,
    }


# ----------------------------------------------------------------------------------------
# Framing and JSON-RPC (docs/plugin-protocol.md, "Framing"). Nothing to change here.


class ProtocolError(Exception):
    """The byte stream cannot be understood; the plugin cannot go on."""


def read_message(stream):
    """(json bytes, binary bytes) of the next message, or None at the end of stdin."""
    headers = {}
    block = 0
    first = True
    while True:
        line = stream.readline(MAX_HEADER_BLOCK + 1)
        if not line:
            if first:
                return None
            raise ProtocolError("stdin ended inside a header block")
        first = False
        block += len(line)
        if block > MAX_HEADER_BLOCK:
            raise ProtocolError("header block longer than %d bytes" % MAX_HEADER_BLOCK)
        if not line.endswith(b"\n"):
            raise ProtocolError("stdin ended inside a header line")
        line = line.rstrip(b"\r\n")
        if not line:
            break
        name, colon, value = line.partition(b":")
        if not colon:
            raise ProtocolError("bad header line %r" % line)
        headers[name.strip().lower().decode("ascii", "replace")] = value.strip().decode("ascii", "replace")

    def length(header, limit, required):
        text = headers.get(header)
        if text is None:
            if required:
                raise ProtocolError("no %s header" % header)
            return 0
        if not text.isdigit() or int(text) > limit:
            raise ProtocolError("bad %s: %r" % (header, text))
        return int(text)

    json_length = length("content-length", MAX_JSON, True)
    binary_length = length("binary-length", MAX_BINARY, False)
    body = stream.read(json_length)
    binary = stream.read(binary_length) if binary_length else b""
    if len(body) != json_length or len(binary) != binary_length:
        raise ProtocolError("stdin ended inside a message")
    return body, binary


def write_message(out, message, binary=b""):
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header = "Content-Length: %d\r\n" % len(body)
    if binary:
        header += "Binary-Length: %d\r\n" % len(binary)
    out.write(header.encode("ascii") + b"\r\n" + body)
    if binary:
        out.write(binary)
    out.flush()


def error_response(request_id, code, message, data=None):
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def handle(adapter, body):
    """(response, binary, stop) for one request body; response is None for a notification."""
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return error_response(None, PARSE_ERROR, "the request is not valid JSON: %s" % error), b"", False
    if not isinstance(request, dict):
        return error_response(None, INVALID_REQUEST, "the request is not a JSON object"), b"", False
    request_id = request.get("id")
    if "id" not in request:
        log("ignoring a notification:", request.get("method"))
        return None, b"", False
    method = request.get("method")
    params = request.get("params", {})
    if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
        return error_response(request_id, INVALID_REQUEST, "not a JSON-RPC 2.0 request"), b"", False
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return error_response(request_id, INVALID_PARAMS, "params must be an object"), b"", False
    function = Adapter.METHODS.get(method)
    if function is None:
        return error_response(request_id, METHOD_NOT_FOUND, "no method '%s'" % method), b"", False
    binary = b""
    try:
        result = function(adapter, params)
        if isinstance(result, tuple):
            result, binary = result
    except RPCError as error:
        return error_response(request_id, error.code, error.message, error.data), b"", False
    except Exception as error:  # anything unexpected: answer it and carry on
        log("%s failed:\n%s" % (method, traceback.format_exc()))
        return error_response(request_id, INTERNAL_ERROR, "%s: %s" % (type(error).__name__, error)), b"", False
    return {"jsonrpc": "2.0", "id": request_id, "result": result}, binary, method == "shutdown"


def main():
    # Protocol messages go to a private copy of stdout; stdout itself becomes stderr, so a
    # stray print() (or a library writing to fd 1) cannot corrupt the protocol.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    stream = sys.stdin.buffer
    adapter = Adapter()
    try:
        while True:
            try:
                message = read_message(stream)
            except ProtocolError as error:
                log("protocol error:", error)
                return 1
            if message is None:
                return 0  # stdin closed: Ferry is done with us
            response, binary, stop = handle(adapter, message[0])
            if response is not None:
                write_message(out, response, binary)
            if stop:
                return 0
    except BrokenPipeError:
        return 0
    finally:
        adapter.close_all()


if __name__ == "__main__":
    sys.exit(main())

"""#

    /// README.md of the Python scaffold.
    static let pythonReadme = #"""
# ferry-adapter-__NAME__

A Ferry source adapter, written by `ferry adapter new __NAME__ --kind source --lang python`.
It speaks the Ferry plugin protocol, version 1: see `docs/plugin-protocol.md` in the Ferry
repository for every message, type and error code.

As generated it already works: it serves **raw disk images**. Option `path` is a raw image
file (or a block device); the machine is named after the file without its extension (or
option `hostname`) and has one disk, `disk0`. Holes in a sparse image are reported with
`SEEK_DATA`/`SEEK_HOLE`, so Ferry copies only the data.

It is one file, `ferry-adapter-__NAME__`, Python 3.8 or later, standard library only.

## Try it

```sh
# a sparse test image with some data in it
truncate -s 64M disk.img
dd if=/dev/urandom of=disk.img bs=1M seek=8 count=2 conv=notrunc

export FERRY_PLUGIN_PATH=$PWD      # folders Ferry searches for ferry-adapter-* executables
ferry adapters                     # lists __NAME__ (or says why it is broken)
ferry adapter test __NAME__ --option path=disk.img
ferry source add --adapter __NAME__ --option path=disk.img
```

To talk to it by hand (the answer is framed the same way):

```sh
printf 'Content-Length: 78\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"describe","params":{"protocolVersions":[1]}}' \
  | ./ferry-adapter-__NAME__
```

## What to fill in

Search for `TODO:` in `ferry-adapter-__NAME__`:

- `describe`: the one-line summary, your version, and the options your adapter takes
  (`string`, `integer`, `boolean`, `path` or `choice`). Ferry checks option values against
  them and fills in defaults before it calls you.
- `discover`: which machines the options point at (a folder of images, a VM export, an
  API), with what you know about each: OS, CPUs, memory, network interfaces, boot mode and
  disks. A disk's `locator` is any string you need to find it again; `sizeBytes` must be
  what `source.openDisk` reports.
- `DiskReader`: how a disk is opened, which ranges may hold data (everything else must read
  as zeros; return one range covering the disk if you cannot tell) and how bytes at a
  virtual offset are read. A read returns exactly the bytes asked for.
- Optionally `source.changeStamp`, with the `change-tracking` capability.

The framing and JSON-RPC code at the end of the file should not need changes.

## Rules worth knowing

- stdout carries protocol messages only; log to stderr with `log(...)`. Ferry keeps the
  last 8 KiB of stderr and shows it when the plugin fails. (This adapter moves stdout out
  of the way at start-up, so a stray `print` lands on stderr.)
- Answer errors with the protocol's codes: `InvalidOption` (-32004, with
  `{"option": name}`) for an unusable option value, `NotFound` (-32001) for an unknown
  handle, machine or disk, `OutOfBounds` (-32002) for a read past the end, `IOError`,
  `Unsupported` and `Corrupt` for problems with the input. An unexpected exception is
  answered with `InternalError` (-32603) and the plugin carries on.
- Ferry sends one request at a time; the plugin exits on `shutdown` or when stdin closes.

"""#

    /// Package.swift of the Swift scaffold: no dependencies, so it builds offline.
    static let swiftPackage = #"""
// swift-tools-version:5.9
// A Ferry source adapter: the executable ferry-adapter-__NAME__ (docs/plugin-protocol.md in
// the Ferry repository). No dependencies, so it builds offline; add your own as needed.
import PackageDescription

let package = Package(
    name: "ferry-adapter-__NAME__",
    targets: [
        .executableTarget(name: "ferry-adapter-__NAME__", path: "Sources/ferry-adapter-__NAME__"),
    ]
)

"""#

    /// Sources/ferry-adapter-NAME/main.swift.
    static let swiftAdapter = #"""
// ferry-adapter-__NAME__: a Ferry source adapter, speaking the Ferry plugin protocol, version 1
// (docs/plugin-protocol.md in the Ferry repository).
//
// As generated, it serves raw disk images: option `path` is a raw image file (or a block
// device); the machine is named after the file (or option `hostname`) and has one disk,
// "disk0". It passes `ferry adapter test __NAME__ --option path=disk.img` as it is.
//
// To make it read your own format, look for the TODO comments:
//   - describe():        summary, version and the options your adapter takes;
//   - discover():        which machines and disks `options` point at, and their facts;
//   - DiskReader:        how a disk is opened, which ranges hold data, how bytes are read.
// The protocol code (framing, JSON-RPC, errors) should not need changes.
//
// Foundation and the C library only, so it builds offline. stdout carries protocol messages
// only: log with log() (stderr); a stray print() is sent to stderr too, never to Ferry.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

let adapterName = "__NAME__"
let adapterVersion = "0.1.0" // TODO: your adapter's version
let protocolVersion = 1

let maxHeaderBlock = 1024
let maxJSON = 16 * 1024 * 1024
let maxBinary = 16 * 1024 * 1024
let maxRead = 4 * 1024 * 1024

/// Error codes (docs/plugin-protocol.md, "Errors").
enum ErrorCode {
    static let parseError = -32700
    static let invalidRequest = -32600
    static let methodNotFound = -32601
    static let invalidParams = -32602
    static let internalError = -32603
    static let notFound = -32001
    static let outOfBounds = -32002
    static let ioError = -32003
    static let invalidOption = -32004
    static let unsupported = -32005
    static let corrupt = -32006
    static let unsupportedProtocolVersion = -32010
}

/// Logs to stderr: Ferry keeps the last 8 KiB and shows them when the plugin fails.
func log(_ message: String) {
    FileHandle.standardError.write(Data("\(adapterName): \(message)\n".utf8))
}

// MARK: - JSON

/// A JSON value, so that requests and results need no Codable type per method.
enum JSON: Codable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSON].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    subscript(key: String) -> JSON? {
        if case .object(let object) = self, let value = object[key], value != .null { return value }
        return nil
    }

    var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value): return value.rounded() == value && abs(value) < 9.0e15 ? Int(value) : nil
        default: return nil
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: JSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// An error answered to Ferry: `code` from ErrorCode, `message` for people.
struct RPCError: Error {
    var code: Int
    var message: String
    var data: JSON?

    static func invalidOption(_ option: String, _ message: String) -> RPCError {
        RPCError(code: ErrorCode.invalidOption, message: message, data: ["option": .string(option)])
    }
}

// MARK: - Params

func stringParam(_ params: JSON, _ name: String) throws -> String {
    guard let value = params[name] else { throw RPCError(code: ErrorCode.invalidParams, message: "missing param '\(name)'") }
    guard case .string(let string) = value else {
        throw RPCError(code: ErrorCode.invalidParams, message: "param '\(name)' must be a string")
    }
    return string
}

func intParam(_ params: JSON, _ name: String) throws -> Int {
    guard let value = params[name] else { throw RPCError(code: ErrorCode.invalidParams, message: "missing param '\(name)'") }
    guard let int = value.intValue else {
        throw RPCError(code: ErrorCode.invalidParams, message: "param '\(name)' must be an integer")
    }
    return int
}

func objectParam(_ params: JSON, _ name: String) throws -> JSON {
    guard let value = params[name] else { throw RPCError(code: ErrorCode.invalidParams, message: "missing param '\(name)'") }
    guard case .object = value else {
        throw RPCError(code: ErrorCode.invalidParams, message: "param '\(name)' must be an object")
    }
    return value
}

func options(_ params: JSON) throws -> [String: String] {
    guard let value = params["options"] else { return [:] }
    guard case .object(let object) = value else {
        throw RPCError(code: ErrorCode.invalidParams, message: "param 'options' must be an object")
    }
    var options: [String: String] = [:]
    for (key, value) in object {
        if value == .null { continue }
        guard case .string(let string) = value else {
            throw RPCError(code: ErrorCode.invalidParams, message: "option '\(key)' must be a string")
        }
        options[key] = string
    }
    return options
}

// MARK: - The source: raw disk images. TODO: replace with your own format and discovery.

#if os(Linux) || os(Android)
let seekData: Int32? = 3 // SEEK_DATA, which Glibc does not export to Swift
let seekHole: Int32? = 4 // SEEK_HOLE
#elseif canImport(Darwin)
let seekData: Int32? = 4
let seekHole: Int32? = 3
#else
let seekData: Int32? = nil
let seekHole: Int32? = nil
#endif

func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

// The C library's read, write and close, under names that methods do not shadow.
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
func systemClose(_ fd: Int32) { _ = close(fd) }

/// The size of an open image file or block device.
func imageSize(_ fd: Int32) -> Int? {
    let end = lseek(fd, 0, SEEK_END)
    return end < 0 ? nil : Int(end)
}

/// Checks that `path` is a readable, non-empty image file or block device; returns its size.
func checkImage(_ path: String, option: String = "path") throws -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else {
        let code = errno
        if code == ENOENT { throw RPCError.invalidOption(option, "\(path) does not exist") }
        throw RPCError.invalidOption(option, "cannot read \(path): \(errorText(code))")
    }
    let type = info.st_mode & S_IFMT
    guard type == S_IFREG || type == S_IFBLK else {
        throw RPCError.invalidOption(option, "\(path) is not a file or a block device")
    }
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw RPCError.invalidOption(option, "cannot read \(path): \(errorText(errno))") }
    defer { close(fd) }
    guard let size = imageSize(fd) else {
        throw RPCError.invalidOption(option, "cannot read \(path): \(errorText(errno))")
    }
    guard size > 0 else { throw RPCError.invalidOption(option, "\(path) is empty") }
    return size
}

/// The machines `options` point at, as MachineFacts (docs/plugin-protocol.md, "Types").
func discover(_ options: [String: String]) throws -> [JSON] {
    // TODO: find your machines here: one per image, per folder entry, per VM in an export...
    guard let given = options["path"], !given.isEmpty else {
        throw RPCError.invalidOption("path", "option 'path' is required: a raw disk image")
    }
    let url = URL(fileURLWithPath: given).standardizedFileURL
    let path = url.path
    let size = try checkImage(path)
    var hostname = options["hostname"] ?? ""
    if hostname.isEmpty { hostname = url.deletingPathExtension().lastPathComponent }
    if hostname.isEmpty { hostname = "machine" }
    let disk: JSON = [
        "name": "disk0",
        "sizeBytes": .int(size), // must be what source.openDisk reports for this disk
        "locator": .string(path), // whatever you need to find the disk again; opaque to Ferry
        "isBoot": true,
    ]
    return [[
        "hostname": .string(hostname),
        // TODO: fill in what your format knows: OS, CPUs, memory, NICs, boot mode.
        "operatingSystem": ["family": "unknown", "name": "", "version": ""],
        "cpuCount": 0,
        "memoryBytes": 0,
        "networkInterfaces": [],
        "disks": [disk],
    ]]
}

/// One open disk. TODO: for another format, map virtual offsets to your file's bytes here.
final class DiskReader {
    let name: String
    let locator: String
    let fd: Int32
    let size: Int

    init(name: String, locator: String) throws {
        self.name = name
        self.locator = locator
        let fd = open(locator, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT {
                throw RPCError(code: ErrorCode.notFound, message: "disk \(name): \(locator) does not exist",
                               data: ["kind": "disk", "id": .string(name)])
            }
            throw RPCError(code: ErrorCode.ioError, message: "disk \(name): cannot open \(locator): \(errorText(code))")
        }
        guard let size = imageSize(fd) else {
            let code = errno
            systemClose(fd)
            throw RPCError(code: ErrorCode.ioError, message: "disk \(name): cannot size \(locator): \(errorText(code))")
        }
        self.fd = fd
        self.size = size
    }

    /// The ranges that may hold data, sorted and not overlapping; everything else reads as zeros.
    func allocatedRanges() -> [JSON] {
        let whole: [JSON] = [["offset": 0, "length": .int(size)]]
        guard let seekData, let seekHole else { return whole }
        var ranges: [JSON] = []
        var offset = 0
        while offset < size {
            let start = lseek(fd, off_t(offset), seekData)
            if start < 0 {
                if errno == ENXIO { break } // no data after offset
                return whole // the file system cannot tell (EINVAL, EOPNOTSUPP, ...)
            }
            if Int(start) >= size { break }
            let hole = lseek(fd, start, seekHole)
            if hole < 0 { return whole }
            let end = min(Int(hole), size)
            if end <= Int(start) { return whole }
            ranges.append(["offset": .int(Int(start)), "length": .int(end - Int(start))])
            offset = end
        }
        return ranges
    }

    /// Exactly `length` bytes at `offset` (the caller has checked the bounds).
    func read(offset: Int, length: Int) throws -> Data {
        var data = Data(count: length)
        var done = 0
        while done < length {
            let count = data.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + done, length - done, off_t(offset + done))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw RPCError(code: ErrorCode.ioError,
                               message: "disk \(name): read at \(offset + done) failed: \(errorText(errno))")
            }
            if count == 0 {
                throw RPCError(code: ErrorCode.ioError,
                               message: "disk \(name): \(locator) ended at \(offset + done), before the disk's end (\(size)); did it shrink?")
            }
            done += count
        }
        return data
    }

    func close() { systemClose(fd) }
}

// MARK: - Methods

final class Adapter {
    var disks: [String: DiskReader] = [:]
    var nextHandle = 1

    /// A method's result, and the binary part of the response (only source.read has one).
    typealias Answer = (result: JSON, binary: Data)

    func call(_ method: String, _ params: JSON) throws -> Answer {
        switch method {
        case "describe": return (try describe(params), Data())
        case "source.discover": return (["machines": .array(try discover(try options(params)))], Data())
        case "source.openDisk": return (try openDisk(params), Data())
        case "source.allocatedRanges": return (["ranges": .array(try disk(params).reader.allocatedRanges())], Data())
        case "source.read": return try read(params)
        case "source.closeDisk": return (try closeDisk(params), Data())
        // TODO: with "change-tracking" in capabilities, add "source.changeStamp": a string that
        // changes whenever the disk may have changed (size and modification time, say).
        case "shutdown": return ([:], Data())
        default: throw RPCError(code: ErrorCode.methodNotFound, message: "no method '\(method)'")
        }
    }

    func describe(_ params: JSON) throws -> JSON {
        guard case .array(let offered)? = params["protocolVersions"] else {
            throw RPCError(code: ErrorCode.invalidParams, message: "param 'protocolVersions' must be an array")
        }
        guard offered.contains(where: { $0.intValue == protocolVersion }) else {
            let list = offered.map { $0.intValue.map(String.init) ?? "?" }.joined(separator: ", ")
            throw RPCError(code: ErrorCode.unsupportedProtocolVersion,
                           message: "this adapter speaks protocol version \(protocolVersion); Ferry offered [\(list)]",
                           data: ["supported": [.int(protocolVersion)]])
        }
        return [
            "protocolVersion": .int(protocolVersion),
            "name": .string(adapterName),
            "kind": "source",
            "version": .string(adapterVersion),
            "summary": "Raw disk images", // TODO: one line about your source
            "capabilities": ["discovery", "block-read"],
            // TODO: the options your adapter takes (type: string, integer, boolean, path, choice).
            "options": [
                ["name": "path", "type": "path", "required": true, "help": "a raw disk image"],
                ["name": "hostname", "type": "string",
                 "help": "the machine's name (default: the image's file name without its extension)"],
            ],
        ]
    }

    func openDisk(_ params: JSON) throws -> JSON {
        _ = try options(params) // TODO: use the options if opening a disk needs them (credentials...)
        let disk = try objectParam(params, "disk")
        let reader = try DiskReader(name: try stringParam(disk, "name"), locator: try stringParam(disk, "locator"))
        let handle = "h\(nextHandle)"
        nextHandle += 1
        disks[handle] = reader
        return ["handle": .string(handle), "sizeBytes": .int(reader.size)]
    }

    func disk(_ params: JSON) throws -> (handle: String, reader: DiskReader) {
        let handle = try stringParam(params, "handle")
        guard let reader = disks[handle] else {
            throw RPCError(code: ErrorCode.notFound, message: "no open disk with handle '\(handle)'",
                           data: ["kind": "handle", "id": .string(handle)])
        }
        return (handle, reader)
    }

    func read(_ params: JSON) throws -> Answer {
        let reader = try disk(params).reader
        let offset = try intParam(params, "offset")
        let length = try intParam(params, "length")
        guard offset >= 0 else {
            throw RPCError(code: ErrorCode.invalidParams, message: "offset must not be negative, not \(offset)")
        }
        guard length >= 1, length <= maxRead else {
            throw RPCError(code: ErrorCode.invalidParams, message: "length must be between 1 and \(maxRead), not \(length)")
        }
        guard offset <= reader.size - length else {
            throw RPCError(code: ErrorCode.outOfBounds,
                           message: "disk \(reader.name): a read of \(length) bytes at \(offset) reaches past its end (\(reader.size) bytes)",
                           data: ["offset": .int(offset), "length": .int(length), "sizeBytes": .int(reader.size)])
        }
        let data = try reader.read(offset: offset, length: length)
        return (["length": .int(data.count)], data)
    }

    func closeDisk(_ params: JSON) throws -> JSON {
        let (handle, reader) = try disk(params)
        disks[handle] = nil
        reader.close()
        return [:]
    }

    func closeAll() {
        for reader in disks.values { reader.close() }
        disks = [:]
    }
}

// MARK: - Framing and JSON-RPC (docs/plugin-protocol.md, "Framing"). Nothing to change here.

struct ProtocolError: Error { var message: String }

/// Reads framed messages from a file descriptor.
final class MessageReader {
    let fd: Int32
    var buffer: [UInt8] = []
    var start = 0
    var atEnd = false

    init(fd: Int32) { self.fd = fd }

    /// Reads more bytes into the buffer; false at the end of input.
    func fill() throws -> Bool {
        if atEnd { return false }
        if start > 0 { buffer.removeFirst(start); start = 0 }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ProtocolError(message: "reading stdin failed: \(errorText(errno))")
            }
            if count == 0 { atEnd = true; return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
    }

    func line(headerBytesSoFar: Int) throws -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 10) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                guard headerBytesSoFar + line.count + 1 <= maxHeaderBlock else {
                    throw ProtocolError(message: "header block longer than \(maxHeaderBlock) bytes")
                }
                return line
            }
            if headerBytesSoFar + buffer.count - start > maxHeaderBlock {
                throw ProtocolError(message: "header block longer than \(maxHeaderBlock) bytes")
            }
            if try !fill() { return nil }
        }
    }

    func bytes(_ count: Int) throws -> [UInt8] {
        while buffer.count - start < count {
            if try !fill() { throw ProtocolError(message: "stdin ended inside a message") }
        }
        let bytes = Array(buffer[start..<start + count])
        start += count
        return bytes
    }

    /// The JSON text and binary part of the next message, or nil at the end of stdin.
    func next() throws -> (json: [UInt8], binary: [UInt8])? {
        var headers: [String: String] = [:]
        var blockSize = 0
        var first = true
        while true {
            guard var line = try line(headerBytesSoFar: blockSize) else {
                if first && buffer.count == start { return nil }
                throw ProtocolError(message: "stdin ended inside a header block")
            }
            first = false
            blockSize += line.count + 1
            if line.last == 13 { line.removeLast() }
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: 58) else {
                throw ProtocolError(message: "bad header line '\(String(decoding: line, as: UTF8.self))'")
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            headers[name] = value
        }
        func length(_ name: String, limit: Int, required: Bool) throws -> Int {
            guard let text = headers[name] else {
                if required { throw ProtocolError(message: "no \(name) header") }
                return 0
            }
            guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text), value <= limit else {
                throw ProtocolError(message: "bad \(name): '\(text)'")
            }
            return value
        }
        let jsonLength = try length("content-length", limit: maxJSON, required: true)
        let binaryLength = try length("binary-length", limit: maxBinary, required: false)
        return (try bytes(jsonLength), try bytes(binaryLength))
    }
}

/// Writes framed messages to a file descriptor.
struct MessageWriter {
    let fd: Int32
    let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    func write(_ message: JSON, binary: Data = Data()) throws {
        let body = try encoder.encode(message)
        var header = "Content-Length: \(body.count)\r\n"
        if !binary.isEmpty { header += "Binary-Length: \(binary.count)\r\n" }
        header += "\r\n"
        try writeAll(Data(header.utf8))
        try writeAll(body)
        if !binary.isEmpty { try writeAll(binary) }
    }

    private func writeAll(_ data: Data) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var done = 0
            while done < buffer.count {
                let count = systemWrite(fd, buffer.baseAddress! + done, buffer.count - done)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ProtocolError(message: "writing to Ferry failed: \(errorText(errno))")
                }
                done += count
            }
        }
    }
}

func errorResponse(_ id: JSON, _ code: Int, _ message: String, _ data: JSON? = nil) -> JSON {
    var error: [String: JSON] = ["code": .int(code), "message": .string(message)]
    if let data { error["data"] = data }
    return ["jsonrpc": "2.0", "id": id, "error": .object(error)]
}

/// The response to one request body (nil for a notification), its binary part, and whether to stop.
func handle(_ adapter: Adapter, _ body: [UInt8]) -> (response: JSON?, binary: Data, stop: Bool) {
    let request: JSON
    do {
        request = try JSONDecoder().decode(JSON.self, from: Data(body))
    } catch {
        return (errorResponse(.null, ErrorCode.parseError, "the request is not valid JSON"), Data(), false)
    }
    guard case .object(let fields) = request else {
        return (errorResponse(.null, ErrorCode.invalidRequest, "the request is not a JSON object"), Data(), false)
    }
    guard let id = fields["id"] else {
        if case .string(let method)? = request["method"] { log("ignoring a notification: \(method)") }
        return (nil, Data(), false)
    }
    guard request["jsonrpc"] == "2.0", case .string(let method)? = request["method"] else {
        return (errorResponse(id, ErrorCode.invalidRequest, "not a JSON-RPC 2.0 request"), Data(), false)
    }
    let params = request["params"] ?? [:]
    guard case .object = params else {
        return (errorResponse(id, ErrorCode.invalidParams, "params must be an object"), Data(), false)
    }
    do {
        let answer = try adapter.call(method, params)
        return (["jsonrpc": "2.0", "id": id, "result": answer.result], answer.binary, method == "shutdown")
    } catch let error as RPCError {
        return (errorResponse(id, error.code, error.message, error.data), Data(), false)
    } catch {
        // Anything unexpected that was thrown: answer it and carry on. (A Swift trap, such as
        // an index out of range, still ends the process: Ferry then reports the crash.)
        log("\(method) failed: \(error)")
        return (errorResponse(id, ErrorCode.internalError, "\(error)"), Data(), false)
    }
}

// Protocol messages go to a private copy of stdout; stdout itself becomes stderr, so a stray
// print() (or a library writing to fd 1) cannot corrupt the protocol.
let protocolOutput = dup(STDOUT_FILENO)
dup2(STDERR_FILENO, STDOUT_FILENO)
signal(SIGPIPE, SIG_IGN) // a closed pipe becomes a write error, handled below

let input = MessageReader(fd: STDIN_FILENO)
let output = MessageWriter(fd: protocolOutput)
let adapter = Adapter()
var status: Int32 = 0
while true {
    do {
        guard let message = try input.next() else { break } // stdin closed: Ferry is done with us
        let (response, binary, stop) = handle(adapter, message.json)
        if let response { try output.write(response, binary: binary) }
        if stop { break }
    } catch let error as ProtocolError {
        log("protocol error: \(error.message)")
        status = 1
        break
    } catch {
        log("error: \(error)")
        status = 1
        break
    }
}
adapter.closeAll()
exit(status)

"""#

    /// README.md of the Swift scaffold.
    static let swiftReadme = #"""
# ferry-adapter-__NAME__

A Ferry source adapter, written by `ferry adapter new __NAME__ --kind source --lang swift`.
It speaks the Ferry plugin protocol, version 1: see `docs/plugin-protocol.md` in the Ferry
repository for every message, type and error code.

As generated it already works: it serves **raw disk images**. Option `path` is a raw image
file (or a block device); the machine is named after the file without its extension (or
option `hostname`) and has one disk, `disk0`. Holes in a sparse image are reported with
`SEEK_DATA`/`SEEK_HOLE`, so Ferry copies only the data.

It is a Swift package with no dependencies (Foundation and the C library only), so it
builds offline: `Sources/ferry-adapter-__NAME__/main.swift` is the whole adapter.

## Try it

```sh
swift build -c release             # makes .build/release/ferry-adapter-__NAME__

# a sparse test image with some data in it
truncate -s 64M disk.img
dd if=/dev/urandom of=disk.img bs=1M seek=8 count=2 conv=notrunc

export FERRY_PLUGIN_PATH=$PWD/.build/release   # folders Ferry searches for ferry-adapter-* executables
ferry adapters                     # lists __NAME__ (or says why it is broken)
ferry adapter test __NAME__ --option path=disk.img
ferry source add --adapter __NAME__ --option path=disk.img
```

To install it, copy `.build/release/ferry-adapter-__NAME__` into a folder on
`FERRY_PLUGIN_PATH`, the workspace's `plugins/` folder or your `PATH`.

To talk to it by hand (the answer is framed the same way):

```sh
printf 'Content-Length: 78\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"describe","params":{"protocolVersions":[1]}}' \
  | .build/release/ferry-adapter-__NAME__
```

## What to fill in

Search for `TODO:` in `main.swift`:

- `describe`: the one-line summary, your version, and the options your adapter takes
  (`string`, `integer`, `boolean`, `path` or `choice`). Ferry checks option values against
  them and fills in defaults before it calls you.
- `discover`: which machines the options point at (a folder of images, a VM export, an
  API), with what you know about each: OS, CPUs, memory, network interfaces, boot mode and
  disks. A disk's `locator` is any string you need to find it again; `sizeBytes` must be
  what `source.openDisk` reports.
- `DiskReader`: how a disk is opened, which ranges may hold data (everything else must read
  as zeros; return one range covering the disk if you cannot tell) and how bytes at a
  virtual offset are read. A read returns exactly the bytes asked for.
- Optionally `source.changeStamp`, with the `change-tracking` capability.

The framing and JSON-RPC code at the end of the file should not need changes. If you add
dependencies, Ferry does not mind: it only runs the built executable.

## Rules worth knowing

- stdout carries protocol messages only; log to stderr with `log(...)`, never `print`.
  Ferry keeps the last 8 KiB of stderr and shows it when the plugin fails. (This adapter
  moves stdout out of the way at start-up, so a stray `print` lands on stderr.)
- Answer errors with the protocol's codes: `InvalidOption` (-32004, with
  `{"option": name}`) for an unusable option value, `NotFound` (-32001) for an unknown
  handle, machine or disk, `OutOfBounds` (-32002) for a read past the end, `IOError`,
  `Unsupported` and `Corrupt` for problems with the input. Any other thrown error is
  answered with `InternalError` (-32603) and the plugin carries on; a trap (an index out
  of range, a force-unwrapped nil) ends the process, and Ferry reports the crash.
- Ferry sends one request at a time; the plugin exits on `shutdown` or when stdin closes.

"""#

    /// .gitignore of the Swift scaffold.
    static let swiftGitignore = #"""
.build/
.swiftpm/
*.img

"""#
}
