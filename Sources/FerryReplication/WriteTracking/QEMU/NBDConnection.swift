import FerryCore
import Foundation
import Synchronization

/// A client of the Network Block Device protocol (the fixed newstyle handshake, structured
/// replies, metadata contexts), over a Unix socket: how the agent reads a disk through the
/// QEMU process that runs it — coherent with what the guest wrote, and, from a fleecing
/// export, the disk as it was at a point in time — and reads a dirty bitmap as block status.
/// Written by hand from the protocol's specification (NetworkBlockDevice/nbd, doc/proto.md):
/// no Swift package speaks NBD.
final class NBDConnection: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One extent of block status: `length` bytes with `flags` (base:allocation: 1 hole,
    /// 2 reads as zeros; qemu:dirty-bitmap:…: 1 dirty).
    struct Extent: Equatable {
        var offset: UInt64
        var length: UInt64
        var flags: UInt32
    }

    let export: String
    let size: UInt64
    /// The metadata contexts the server agreed to, by name, with their ids.
    let contexts: [String: UInt32]
    private let stream: Mutex<UnixStream>
    private let cookies = Atomic<UInt64>(1)

    private static let nbdMagic: UInt64 = 0x4E42_444D_4147_4943       // "NBDMAGIC"
    private static let optionMagic: UInt64 = 0x4948_4156_454F_5054    // "IHAVEOPT"
    private static let replyMagic: UInt64 = 0x0003_E889_0455_65A9
    private static let requestMagic: UInt32 = 0x2560_9513
    private static let simpleReplyMagic: UInt32 = 0x6744_6698
    private static let structuredReplyMagic: UInt32 = 0x668E_33EF
    private enum Option: UInt32 { case go = 7, structuredReply = 8, setMetaContext = 10 }
    private enum Reply: UInt32 { case ack = 1, info = 3, metaContext = 4 }
    private enum Command: UInt16 { case read = 0, write = 1, disconnect = 2, flush = 3, blockStatus = 7 }

    /// Connects to `export` on the server at `socket`, asking for `contexts` (e.g.
    /// "base:allocation", "qemu:dirty-bitmap:ferry-3").
    init(socket: String, export: String, contexts: [String] = []) throws(Failure) {
        self.export = export
        do {
            let stream = try UnixStream(connectingTo: socket)
            var header = ByteReader(try stream.read(count: 18))
            guard header.u64() == Self.nbdMagic, header.u64() == Self.optionMagic else {
                throw Failure(description: "\(socket) is not an NBD server with the newstyle handshake")
            }
            let serverFlags = header.u16()
            guard serverFlags & 1 != 0 else { throw Failure(description: "\(socket): the NBD server lacks the fixed newstyle handshake") }
            // Fixed newstyle, and no 124 bytes of zeros after the export's details when the server allows it.
            try stream.write(ByteWriter().u32(serverFlags & 2 != 0 ? 3 : 1).bytes)

            _ = try Self.option(.structuredReply, data: [], on: stream, socket: socket)
            var agreed: [String: UInt32] = [:]
            if !contexts.isEmpty {
                var data = ByteWriter().string(export).u32(UInt32(contexts.count))
                for context in contexts { data = data.string(context) }
                for reply in try Self.option(.setMetaContext, data: data.bytes, on: stream, socket: socket) where reply.type == Reply.metaContext.rawValue {
                    var r = ByteReader(reply.data)
                    let id = r.u32()
                    agreed[String(decoding: reply.data.dropFirst(4), as: UTF8.self)] = id
                }
                for context in contexts where agreed[context] == nil {
                    throw Failure(description: "the export \(export) at \(socket) has no metadata context \(context)")
                }
            }
            var size: UInt64?
            for reply in try Self.option(.go, data: ByteWriter().string(export).u16(0).bytes, on: stream, socket: socket) where reply.type == Reply.info.rawValue {
                var r = ByteReader(reply.data)
                if r.u16() == 0 { size = r.u64() }  // NBD_INFO_EXPORT
            }
            guard let size else { throw Failure(description: "the export \(export) at \(socket) did not tell its size") }
            self.size = size
            self.contexts = agreed
            self.stream = Mutex(stream)
        } catch let failure as Failure {
            throw failure
        } catch let failure as UnixStream.Failure {
            throw Failure(description: "NBD \(failure.description)")
        } catch {
            throw Failure(description: "NBD \(socket): \(error)")
        }
    }

    deinit {
        stream.withLock { stream in
            try? stream.write(Self.request(.disconnect, cookie: 0, offset: 0, length: 0))
        }
    }

    /// Sends an option and collects its replies up to the server's ACK.
    private static func option(_ option: Option, data: [UInt8], on stream: UnixStream, socket: String) throws -> [(type: UInt32, data: [UInt8])] {
        try stream.write(ByteWriter().u64(optionMagic).u32(option.rawValue).u32(UInt32(data.count)).bytes + data)
        var replies: [(type: UInt32, data: [UInt8])] = []
        while true {
            var header = ByteReader(try stream.read(count: 20))
            guard header.u64() == replyMagic, header.u32() == option.rawValue else {
                throw Failure(description: "\(socket): an NBD option reply that does not answer option \(option.rawValue)")
            }
            let type = header.u32()
            let payload = try stream.read(count: Int(header.u32()))
            if type & 0x8000_0000 != 0 {
                let message = String(decoding: payload, as: UTF8.self)
                throw Failure(description: "\(socket): the NBD server refused option \(option.rawValue) (error \(type & 0x7FFF_FFFF))\(message.isEmpty ? "" : ": \(message)")")
            }
            if type == Reply.ack.rawValue { return replies }
            replies.append((type, payload))
        }
    }

    private static func request(_ command: Command, cookie: UInt64, offset: UInt64, length: UInt32) -> [UInt8] {
        ByteWriter().u32(requestMagic).u16(0).u16(command.rawValue).u64(cookie).u64(offset).u32(length).bytes
    }

    /// Reads `buffer.count` bytes at `offset` (holes the server reports are zeros).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Failure) {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        try transact(.read, offset: offset, length: UInt32(buffer.count)) { type, payload, stream in
            switch type {
            case 1:  // OFFSET_DATA: the offset, then the bytes, read straight into place
                var r = ByteReader(try stream.read(count: 8))
                let at = r.u64()
                let count = Int(payload) - 8
                guard at >= offset, at - offset + UInt64(count) <= UInt64(buffer.count) else {
                    throw Failure(description: "NBD \(export): data at \(at) outside the read at \(offset)")
                }
                try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[Int(at - offset)..<Int(at - offset) + count]))
            default:
                _ = try stream.read(count: Int(payload))  // OFFSET_HOLE: zeros already
            }
        }
    }

    /// The block status of `context` from `offset` on: extents covering at least a part
    /// of the `length` bytes asked (ask again from where they end).
    func blockStatus(context: String, offset: UInt64, length: UInt32) throws(Failure) -> [Extent] {
        guard let id = contexts[context] else { throw Failure(description: "NBD \(export): the context \(context) was not negotiated") }
        var extents: [Extent] = []
        try transact(.blockStatus, offset: offset, length: length) { type, payload, stream in
            var r = ByteReader(try stream.read(count: Int(payload)))
            guard type == 5, r.u32() == id else { return }  // BLOCK_STATUS, of this context
            var at = offset
            while r.remaining >= 8 {
                let extentLength = UInt64(r.u32())
                extents.append(Extent(offset: at, length: extentLength, flags: r.u32()))
                at += extentLength
            }
        }
        return extents
    }

    /// Writes `bytes` at `offset`, durably when `flush`.
    func write(_ bytes: [UInt8], at offset: UInt64) throws(Failure) {
        try transact(.write, offset: offset, length: UInt32(bytes.count), data: bytes) { _, payload, stream in _ = try stream.read(count: Int(payload)) }
    }

    func flush() throws(Failure) {
        try transact(.flush, offset: 0, length: 0) { _, payload, stream in _ = try stream.read(count: Int(payload)) }
    }

    /// One request and its replies: a simple reply, or structured chunks up to the one marked
    /// done, each handed to `chunk` (type, payload length, the stream positioned at the payload).
    private func transact(_ command: Command, offset: UInt64, length: UInt32, data: [UInt8] = [],
                          chunk: (UInt16, UInt32, UnixStream) throws -> Void) throws(Failure) {
        let cookie = cookies.add(1, ordering: .relaxed).newValue
        do {
            try stream.withLock { stream in
                try stream.write(Self.request(command, cookie: cookie, offset: offset, length: length) + data)
                while true {
                    var head = ByteReader(try stream.read(count: 4))
                    switch head.u32() {
                    case Self.simpleReplyMagic:
                        var r = ByteReader(try stream.read(count: 12))
                        let error = r.u32()
                        guard r.u64() == cookie else { throw Failure(description: "NBD \(export): a reply to another request") }
                        guard error == 0 else { throw Failure(description: "NBD \(export): \(command) at \(offset) failed: \(String(cString: strerror(Int32(error))))") }
                        if command == .read { throw Failure(description: "NBD \(export): a simple reply to a read, after structured replies were agreed") }
                        return
                    case Self.structuredReplyMagic:
                        var r = ByteReader(try stream.read(count: 16))
                        let flags = r.u16(), type = r.u16()
                        guard r.u64() == cookie else { throw Failure(description: "NBD \(export): a reply to another request") }
                        let payload = r.u32()
                        if type & 0x8000 != 0 {
                            var e = ByteReader(try stream.read(count: Int(payload)))
                            let error = e.u32()
                            let message = String(decoding: e.bytes(Int(e.u16())), as: UTF8.self)
                            throw Failure(description: "NBD \(export): \(command) at \(offset) failed: \(message.isEmpty ? String(cString: strerror(Int32(error))) : message)")
                        }
                        try chunk(type, payload, stream)
                        if flags & 1 != 0 { return }
                    default:
                        throw Failure(description: "NBD \(export): the server's reply is not an NBD reply")
                    }
                }
            }
        } catch let failure as Failure {
            throw failure
        } catch let failure as UnixStream.Failure {
            throw Failure(description: "NBD \(failure.description)")
        } catch {
            throw Failure(description: "NBD \(export): \(error)")
        }
    }
}

/// Big-endian fields, as NBD puts them on the wire.
private struct ByteWriter {
    var bytes: [UInt8] = []
    func u16(_ v: UInt16) -> ByteWriter { var w = self; w.bytes += withUnsafeBytes(of: v.bigEndian, Array.init); return w }
    func u32(_ v: UInt32) -> ByteWriter { var w = self; w.bytes += withUnsafeBytes(of: v.bigEndian, Array.init); return w }
    func u64(_ v: UInt64) -> ByteWriter { var w = self; w.bytes += withUnsafeBytes(of: v.bigEndian, Array.init); return w }
    /// A length-prefixed (u32) string.
    func string(_ s: String) -> ByteWriter { var w = u32(UInt32(s.utf8.count)); w.bytes += Array(s.utf8); return w }
}

private struct ByteReader {
    private let data: [UInt8]
    private var at = 0
    init(_ data: [UInt8]) { self.data = data }
    var remaining: Int { data.count - at }
    mutating func bytes(_ n: Int) -> [UInt8] {
        let end = min(data.count, at + n)
        defer { at = end }
        return Array(data[at..<end])
    }
    private mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T {
        let raw = bytes(MemoryLayout<T>.size)
        return raw.reduce(T(0)) { $0 << 8 | T($1) }
    }
    mutating func u16() -> UInt16 { integer(UInt16.self) }
    mutating func u32() -> UInt32 { integer(UInt32.self) }
    mutating func u64() -> UInt64 { integer(UInt64.self) }
}
