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
            // Ferry may run this many processes of the adapter at once to read in parallel.
            // TODO: set it to 1 if two processes must not run side by side (a lock, a session).
            "parallelProcesses": 4,
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
