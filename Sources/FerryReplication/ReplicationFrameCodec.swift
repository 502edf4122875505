import FerryCore
import NIOCore

/// Encodes and decodes replication frames on `ByteBuffer`s. Plain code, no sockets, so it is
/// tested on its own; the channel handlers only move the buffers. A block's data is never
/// copied by the codec: it is a slice of the received buffer, and on the way out it is
/// written after its head as a buffer of its own (`writeHead`).
package enum ReplicationFrameCodec {
    /// Writes the whole frame (length, type, payload) at the end of `buffer`.
    package static func write(_ frame: ReplicationFrame, into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        let tail = writeHead(frame, into: &buffer)
        if var tail {
            buffer.writeBuffer(&tail)
        }
        buffer.setInteger(UInt32(buffer.writerIndex - start - 4), at: start)
    }

    /// Writes the frame's length (counting `extraLength` more bytes after it, a seal), type
    /// and payload, all but a block's data, which it returns for the caller to send as it is.
    /// - Returns: the block's data, or nil for every other frame.
    @discardableResult
    package static func writeHead(_ frame: ReplicationFrame, into buffer: inout ByteBuffer, extraLength: Int = 0) -> ByteBuffer? {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(frame.type.rawValue)
        var tail: ByteBuffer?
        switch frame {
        case .challenge(let version, let nonce):
            buffer.writeInteger(version); buffer.writeBytes16(nonce)
        case .authenticate(let version, let nonce, let proof):
            buffer.writeInteger(version); buffer.writeBytes16(nonce); buffer.writeBytes16(proof)
        case .welcome(let proof):
            buffer.writeBytes16(proof)
        case .refused(let reason), .failed(let reason):
            buffer.writeString16(reason)
        case .register(let identity, let facts):
            buffer.writeString16(identity); buffer.writeInteger(UInt32(facts.count)); buffer.writeBytes(facts)
        case .registered(let id):
            buffer.writeString16(id)
        case .inventory(let disk, let entries):
            buffer.writeInteger(disk); buffer.writeInteger(UInt32(entries.count))
            for entry in entries { buffer.writeInteger(entry.index); buffer.writeBytes(entry.sha256) }
        case .inventoryEnd, .heartbeat, .goodbye:
            break
        case .block(let disk, let index, let sha, let compressed, let data):
            buffer.writeInteger(disk); buffer.writeInteger(index); buffer.writeBytes(sha); buffer.writeInteger(UInt8(compressed ? 1 : 0))
            buffer.writeInteger(UInt32(data.readableBytes))
            tail = data
        case .patch(let disk, let index, let base, let pages, let data):
            buffer.writeInteger(disk); buffer.writeInteger(index); buffer.writeBytes(base)
            buffer.writeInteger(UInt8(pages.count)); buffer.writeBytes(pages)
            tail = data
        case .patched(let disk, let index, let sha):
            buffer.writeInteger(disk); buffer.writeInteger(index); buffer.writeBytes(sha)
        case .trim(let disk, let index), .ack(let disk, let index):
            buffer.writeInteger(disk); buffer.writeInteger(index)
        case .nack(let disk, let index, let reason):
            buffer.writeInteger(disk); buffer.writeInteger(index); buffer.writeString16(reason)
        case .progress(let pass, let done, let total, let backlog, let oldest):
            buffer.writeInteger(pass); buffer.writeInteger(done); buffer.writeInteger(total); buffer.writeInteger(backlog)
            buffer.writeInteger(oldest.bitPattern)
        case .tracking(let rescanning, let description):
            buffer.writeInteger(UInt8(rescanning ? 1 : 0)); buffer.writeString16(description)
        case .endOfPass(let pass, let time):
            buffer.writeInteger(pass); buffer.writeInteger(time.bitPattern)
        case .committed(let pass, let id):
            buffer.writeInteger(pass); buffer.writeString16(id)
        }
        let length = buffer.writerIndex - start - 4 + (tail?.readableBytes ?? 0) + extraLength
        buffer.setInteger(UInt32(length), at: start)
        return tail
    }

    /// Decodes one frame from the front of `buffer`, consuming it.
    /// - Returns: the frame, or nil (consuming nothing) when more bytes are needed.
    package static func decode(_ buffer: inout ByteBuffer, maximumLength: Int = ReplicationProtocol.maximumFrameLength) throws(ReplicationProtocolError) -> ReplicationFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1 else { throw .malformed("empty frame") }
        guard Int(length) <= maximumLength else { throw .frameTooLarge(length: Int(length), limit: maximumLength) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return try decode(body: buffer.readSlice(length: Int(length))!)
    }

    /// Decodes a frame's body: its type byte and payload, without the length before them.
    package static func decode(body: ByteBuffer) throws(ReplicationProtocolError) -> ReplicationFrame {
        var r = FrameReader(body)
        let code = try r.u8()
        guard let type = ReplicationFrameType(rawValue: code) else { throw .unknownFrameType(code) }
        let frame = try decodePayload(type, &r)
        guard r.isAtEnd else { throw .malformed("\(frame.name) frame has \(r.remaining) unexpected trailing bytes") }
        return frame
    }

    private static func decodePayload(_ type: ReplicationFrameType, _ r: inout FrameReader) throws(ReplicationProtocolError) -> ReplicationFrame {
        switch type {
        case .challenge: return .challenge(version: try r.u16(), serverNonce: try r.bytes16())
        case .authenticate: return .authenticate(version: try r.u16(), agentNonce: try r.bytes16(), proof: try r.bytes16())
        case .welcome: return .welcome(serverProof: try r.bytes16())
        case .refused: return .refused(reason: try r.string())
        case .failed: return .failed(reason: try r.string())
        case .register: return .register(agentIdentity: try r.string(), factsJSON: try r.bytes(Int(try r.u32())))
        case .registered: return .registered(sourceServerID: try r.string())
        case .inventory:
            let disk = try r.u32()
            let count = Int(try r.u32())
            // Each entry takes 40 bytes: a count the frame cannot hold is a lie.
            guard count <= r.remaining / 40 else { throw .malformed("inventory claims \(count) entries in \(r.remaining) bytes") }
            var entries: [ReplicationFrame.InventoryEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count { entries.append(.init(index: try r.u64(), sha256: try r.bytes(32))) }
            return .inventory(disk: disk, entries: entries)
        case .inventoryEnd: return .inventoryEnd
        case .block:
            let disk = try r.u32(), index = try r.u64(), sha = try r.bytes(32)
            let flags = try r.u8()
            guard flags <= 1 else { throw .malformed("block frame has unknown flags \(flags)") }
            return .block(disk: disk, index: index, sha256: sha, compressed: flags == 1, data: try r.slice(Int(try r.u32())))
        case .patch:
            let disk = try r.u32(), index = try r.u64(), base = try r.bytes(32)
            let pages = try r.bytes(Int(try r.u8()))
            let pagesPerBlock = ReplicationProtocol.blockSize / ReplicationProtocol.pageSize
            guard !pages.isEmpty, pages.count <= ReplicationProtocol.maximumPatchPages, pages.allSatisfy({ Int($0) < pagesPerBlock }),
                  Set(pages).count == pages.count else {
                throw .malformed("patch of block \(index) names pages \(pages)")
            }
            guard r.remaining == pages.count * ReplicationProtocol.pageSize else {
                throw .malformed("patch of block \(index) carries \(r.remaining) bytes for \(pages.count) pages")
            }
            return .patch(disk: disk, index: index, base: base, pages: pages, data: try r.slice(r.remaining))
        case .patched: return .patched(disk: try r.u32(), index: try r.u64(), sha256: try r.bytes(32))
        case .trim: return .trim(disk: try r.u32(), index: try r.u64())
        case .ack: return .ack(disk: try r.u32(), index: try r.u64())
        case .nack: return .nack(disk: try r.u32(), index: try r.u64(), reason: try r.string())
        case .progress:
            return .progress(pass: try r.u64(), bytesDone: try r.u64(), bytesTotal: try r.u64(), backlogBytes: try r.u64(),
                             oldestPendingWrite: Double(bitPattern: try r.u64()))
        case .tracking: return .tracking(rescanning: try r.u8() == 1, description: try r.string())
        case .endOfPass: return .endOfPass(pass: try r.u64(), sourceTime: Double(bitPattern: try r.u64()))
        case .committed: return .committed(pass: try r.u64(), snapshotID: try r.string())
        case .heartbeat: return .heartbeat
        case .goodbye: return .goodbye
        }
    }
}

extension ReplicationFrameCodec {
    /// The frame as bytes, for tests and tools that work on arrays.
    package static func encode(_ frame: ReplicationFrame) -> [UInt8] {
        var buffer = ByteBuffer()
        write(frame, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// Decodes one frame from the start of `bytes`.
    /// - Returns: the frame and how many bytes it used, or nil when more bytes are needed.
    package static func decode(_ bytes: ArraySlice<UInt8>, maximumLength: Int = ReplicationProtocol.maximumFrameLength) throws(ReplicationProtocolError) -> (ReplicationFrame, Int)? {
        var buffer = ByteBuffer(bytes: bytes)
        let before = buffer.readableBytes
        guard let frame = try decode(&buffer, maximumLength: maximumLength) else { return nil }
        return (frame, before - buffer.readableBytes)
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

extension ByteBuffer {
    package mutating func writeBytes16(_ bytes: [UInt8]) {
        writeInteger(UInt16(bytes.count))
        writeBytes(bytes)
    }

    /// A UTF-8 string of at most 65535 bytes, cut there if longer.
    package mutating func writeString16(_ text: String) {
        writeBytes16(Array(text.utf8.prefix(Int(UInt16.max))))
    }
}

/// Big-endian reading of a frame's body that never reads past it and says so in the
/// protocol's terms.
package struct FrameReader {
    private var buffer: ByteBuffer
    package init(_ buffer: ByteBuffer) { self.buffer = buffer }
    package var remaining: Int { buffer.readableBytes }
    package var isAtEnd: Bool { buffer.readableBytes == 0 }

    private func short(_ count: Int) -> ReplicationProtocolError { .malformed("needs \(count) bytes, \(buffer.readableBytes) left") }

    package mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(ReplicationProtocolError) -> T {
        guard let value = buffer.readInteger(as: T.self) else { throw short(MemoryLayout<T>.size) }
        return value
    }
    package mutating func u8() throws(ReplicationProtocolError) -> UInt8 { try integer(UInt8.self) }
    package mutating func u16() throws(ReplicationProtocolError) -> UInt16 { try integer(UInt16.self) }
    package mutating func u32() throws(ReplicationProtocolError) -> UInt32 { try integer(UInt32.self) }
    package mutating func u64() throws(ReplicationProtocolError) -> UInt64 { try integer(UInt64.self) }
    package mutating func bytes(_ count: Int) throws(ReplicationProtocolError) -> [UInt8] {
        guard let bytes = buffer.readBytes(length: count) else { throw short(count) }
        return bytes
    }
    /// `count` bytes as a slice of the frame's buffer: no copy.
    package mutating func slice(_ count: Int) throws(ReplicationProtocolError) -> ByteBuffer {
        guard let slice = buffer.readSlice(length: count) else { throw short(count) }
        return slice
    }
    package mutating func bytes16() throws(ReplicationProtocolError) -> [UInt8] { try bytes(Int(try u16())) }
    package mutating func string() throws(ReplicationProtocolError) -> String {
        let bytes = try bytes16()
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformed("string is not UTF-8") }
        return text
    }
}
