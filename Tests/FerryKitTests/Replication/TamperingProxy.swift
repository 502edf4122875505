import FerryCore
import FerryReplication
@testable import FerryKit
import Foundation
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// A man in the middle on 127.0.0.1: it relays agent connections to the replication server
/// and lets a test change, in the agent → server direction, whole frames as they pass
/// (`length | type | payload`, with whatever follows the payload), or cut a connection.
/// Plain blocking sockets on threads of their own: it must behave like a network, not like
/// a participant in the protocol.
final class TamperingProxy: @unchecked Sendable {
    /// What to do with one agent → server TLS record: pass it (maybe changed), or cut the connection.
    enum Verdict {
        case pass([UInt8])
        case cut
    }

    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let tamper: @Sendable (_ connection: Int, _ frame: [UInt8]) -> Verdict
    private let relayed = Mutex<(sockets: [Int32], connections: Int)>(([], 0))

    init(upstreamPort: Int, tamper: @escaping @Sendable (_ connection: Int, _ frame: [UInt8]) -> Verdict) throws {
        self.upstreamPort = upstreamPort
        self.tamper = tamper
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 8) == 0 else { throw ReplicationProtocolError.connectionClosed("proxy cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting and closes every relayed connection.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        relayed.withLock { for fd in $0.sockets { shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard connected == 0 else { close(client); close(server); continue }
            let number = relayed.withLock { relayed -> Int in
                relayed.sockets += [client, server]
                relayed.connections += 1
                return relayed.connections
            }
            Thread { [self] in relayRecords(from: client, to: server, connection: number) }.start()
            Thread { [self] in relayBytes(from: server, to: client) }.start()
        }
    }

    private func relayBytes(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            guard n > 0, Self.sendAll(Array(buffer[0..<n]), to: destination) else { break }
        }
        shutdown(destination, Int32(SHUT_RDWR))
        shutdown(source, Int32(SHUT_RDWR))
    }

    private func relayRecords(from source: Int32, to destination: Int32, connection: Int) {
        defer {
            shutdown(destination, Int32(SHUT_RDWR))
            shutdown(source, Int32(SHUT_RDWR))
        }
        while let header = Self.receive(5, from: source) {
            let length = Int(header[3]) << 8 | Int(header[4])
            guard let body = Self.receive(length, from: source) else { return }
            switch tamper(connection, header + body) {
            case .pass(let bytes): guard Self.sendAll(bytes, to: destination) else { return }
            case .cut: return
            }
        }
    }

    private static func receive(_ count: Int, from fd: Int32) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + done, count - done, 0) }
            guard n > 0 else { return nil }
            done += n
        }
        return bytes
    }

    private static func sendAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// Record surgery for the tampering tests. Everything after the TCP handshake is TLS, so the
/// proxy sees records (`type u8 | version u16 | length u16 | body`), not frames: it can tell
/// the large records that carry blocks (application data, type 23) from the rest, and change
/// their bytes, but neither read nor forge a frame.
enum TLSRecord {
    static let applicationData: UInt8 = 23

    /// Whether `record` is application data big enough to be part of a 512 KiB block.
    static func carriesBlockData(_ record: [UInt8]) -> Bool { record.count > 8192 && record[0] == applicationData }

    /// The record with one byte of its body flipped.
    static func flipped(_ record: [UInt8]) -> [UInt8] {
        var changed = record
        changed[record.count / 2] ^= 0x01
        return changed
    }
}
