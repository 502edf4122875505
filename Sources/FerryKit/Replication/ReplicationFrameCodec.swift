import FerryCore
import Foundation

/// Encodes and decodes replication frames. Plain code over byte arrays, no sockets, so it is
/// tested on its own; the network layer only moves the bytes.
public enum ReplicationFrameCodec {
    public static func encode(_ frame: ReplicationFrame) -> [UInt8] {
        var payload = ByteWriter()
        switch frame {
        case .challenge(let version, let nonce):
            payload.u16(version); payload.bytes16(nonce)
        case .authenticate(let version, let nonce, let proof):
            payload.u16(version); payload.bytes16(nonce); payload.bytes16(proof)
        case .welcome(let proof):
            payload.bytes16(proof)
        case .refused(let reason), .failed(let reason):
            payload.string(reason)
        case .register(let identity, let facts):
            payload.string(identity); payload.bytes32(facts)
        case .registered(let id):
            payload.string(id)
        case .inventory(let disk, let entries):
            payload.u32(disk); payload.u32(UInt32(entries.count))
            for entry in entries { payload.u64(entry.index); payload.raw(entry.sha256) }
        case .inventoryEnd, .heartbeat:
            break
        case .block(let disk, let index, let sha, let compressed, let data):
            payload.u32(disk); payload.u64(index); payload.raw(sha); payload.u8(compressed ? 1 : 0); payload.bytes32(data)
        case .trim(let disk, let index), .ack(let disk, let index):
            payload.u32(disk); payload.u64(index)
        case .nack(let disk, let index, let reason):
            payload.u32(disk); payload.u64(index); payload.string(reason)
        case .progress(let pass, let done, let total, let backlog):
            payload.u64(pass); payload.u64(done); payload.u64(total); payload.u64(backlog)
        case .endOfPass(let pass, let time):
            payload.u64(pass); payload.u64(time.bitPattern)
        case .committed(let pass, let id):
            payload.u64(pass); payload.string(id)
        }
        var out = ByteWriter()
        out.u32(UInt32(1 + payload.bytes.count))
        out.u8(frame.typeCode)
        out.raw(payload.bytes)
        return out.bytes
    }

    /// Decodes one frame from the start of `buffer`.
    /// - Returns: the frame and how many bytes it used, or nil when more bytes are needed.
    public static func decode(_ buffer: ArraySlice<UInt8>, maximumLength: Int = ReplicationProtocol.maximumFrameLength) throws(ReplicationProtocolError) -> (ReplicationFrame, Int)? {
        guard buffer.count >= 4 else { return nil }
        let start = buffer.startIndex
        let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard length >= 1 else { throw .malformed("empty frame") }
        guard length <= maximumLength else { throw .frameTooLarge(length: length, limit: maximumLength) }
        guard buffer.count >= 4 + length else { return nil }
        return (try decode(body: buffer[(start + 4)..<(start + 4 + length)]), 4 + length)
    }

    /// Decodes a frame's body: its type byte and payload, without the length before them.
    static func decode(body: ArraySlice<UInt8>) throws(ReplicationProtocolError) -> ReplicationFrame {
        guard let type = body.first else { throw .malformed("empty frame") }
        var reader = ByteReader(body.dropFirst())
        let frame = try decodePayload(type: type, &reader)
        guard reader.isAtEnd else { throw .malformed("\(frame.name) frame has \(reader.remaining) unexpected trailing bytes") }
        return frame
    }

    private static func decodePayload(type: UInt8, _ r: inout ByteReader) throws(ReplicationProtocolError) -> ReplicationFrame {
        switch type {
        case 1: return .challenge(version: try r.u16(), serverNonce: try r.bytes16())
        case 2: return .authenticate(version: try r.u16(), agentNonce: try r.bytes16(), proof: try r.bytes16())
        case 3: return .welcome(serverProof: try r.bytes16())
        case 4: return .refused(reason: try r.string())
        case 5: return .failed(reason: try r.string())
        case 10: return .register(agentIdentity: try r.string(), factsJSON: try r.bytes32())
        case 11: return .registered(sourceServerID: try r.string())
        case 12:
            let disk = try r.u32()
            let count = Int(try r.u32())
            // Each entry takes 40 bytes: a count the frame cannot hold is a lie.
            guard count <= r.remaining / 40 else { throw .malformed("inventory claims \(count) entries in \(r.remaining) bytes") }
            var entries: [ReplicationFrame.InventoryEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count { entries.append(.init(index: try r.u64(), sha256: try r.raw(32))) }
            return .inventory(disk: disk, entries: entries)
        case 13: return .inventoryEnd
        case 20:
            let disk = try r.u32(), index = try r.u64(), sha = try r.raw(32)
            let flags = try r.u8()
            guard flags <= 1 else { throw .malformed("block frame has unknown flags \(flags)") }
            return .block(disk: disk, index: index, sha256: sha, compressed: flags == 1, data: try r.bytes32())
        case 21: return .trim(disk: try r.u32(), index: try r.u64())
        case 22: return .ack(disk: try r.u32(), index: try r.u64())
        case 23: return .nack(disk: try r.u32(), index: try r.u64(), reason: try r.string())
        case 24: return .progress(pass: try r.u64(), bytesDone: try r.u64(), bytesTotal: try r.u64(), backlogBytes: try r.u64())
        case 30: return .endOfPass(pass: try r.u64(), sourceTime: Double(bitPattern: try r.u64()))
        case 31: return .committed(pass: try r.u64(), snapshotID: try r.string())
        case 40: return .heartbeat
        default: throw .unknownFrameType(type)
        }
    }
}

public enum ReplicationProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed(String)
    case frameTooLarge(length: Int, limit: Int)
    case unknownFrameType(UInt8)
    case unexpectedFrame(expected: String, got: String)
    case versionMismatch(ours: UInt16, theirs: UInt16)
    case authenticationFailed(String)
    case refused(String)
    case connectionClosed(String)
    /// A sealed frame's tag did not match (`ReplicationFrameSeal`).
    case integrity(String)
    /// The server could not do what a frame asked (it could not store a block, say); the
    /// connection closes after it, and the agent may try again later.
    case serverFailed(String)
    /// The peer the agent connected to does not speak this protocol.
    case notAReplicationServer(String)

    public var description: String {
        switch self {
        case .malformed(let what): return "malformed replication frame: \(what)"
        case .frameTooLarge(let length, let limit): return "replication frame of \(length) bytes exceeds the limit of \(limit)"
        case .unknownFrameType(let type): return "unknown replication frame type \(type)"
        case .unexpectedFrame(let expected, let got): return "expected a \(expected) frame, got \(got)"
        case .versionMismatch(let ours, let theirs): return "replication protocol version \(theirs) is not supported (this side speaks \(ours))"
        case .authenticationFailed(let why): return "authentication failed: \(why)"
        case .refused(let why): return "the replication server refused the connection: \(why)"
        case .connectionClosed(let when): return "the connection closed \(when)"
        case .integrity(let what): return "replication frame integrity: \(what)"
        case .serverFailed(let why): return "the replication server failed: \(why)"
        case .notAReplicationServer(let why): return "the peer is not a Ferry replication server: \(why); check the address and port given to --server"
        }
    }
}

/// Big-endian writing into a growing array.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xff)) }
    mutating func u32(_ v: UInt32) { for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((v >> UInt32(shift)) & 0xff)) } }
    mutating func u64(_ v: UInt64) { for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((v >> UInt64(shift)) & 0xff)) } }
    mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    mutating func bytes16(_ v: [UInt8]) { u16(UInt16(v.count)); raw(v) }
    mutating func bytes32(_ v: [UInt8]) { u32(UInt32(v.count)); raw(v) }
    mutating func string(_ s: String) { bytes16(Array(s.utf8.prefix(Int(UInt16.max)))) }
}

/// Big-endian reading that never reads past its slice.
struct ByteReader {
    private var slice: ArraySlice<UInt8>
    init(_ slice: ArraySlice<UInt8>) { self.slice = slice }
    var remaining: Int { slice.count }
    var isAtEnd: Bool { slice.isEmpty }

    mutating func raw(_ count: Int) throws(ReplicationProtocolError) -> [UInt8] {
        guard count <= slice.count else { throw .malformed("needs \(count) bytes, \(slice.count) left") }
        defer { slice = slice.dropFirst(count) }
        return Array(slice.prefix(count))
    }
    mutating func u8() throws(ReplicationProtocolError) -> UInt8 { try raw(1)[0] }
    mutating func u16() throws(ReplicationProtocolError) -> UInt16 { try raw(2).reduce(0) { $0 << 8 | UInt16($1) } }
    mutating func u32() throws(ReplicationProtocolError) -> UInt32 { try raw(4).reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func u64() throws(ReplicationProtocolError) -> UInt64 { try raw(8).reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func bytes16() throws(ReplicationProtocolError) -> [UInt8] { try raw(Int(try u16())) }
    mutating func bytes32() throws(ReplicationProtocolError) -> [UInt8] { try raw(Int(try u32())) }
    mutating func string() throws(ReplicationProtocolError) -> String {
        let bytes = try bytes16()
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformed("string is not UTF-8") }
        return text
    }
}
