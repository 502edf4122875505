import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking stream over a Unix socket, for the two local protocols QEMU speaks to the
/// agent (QMP and NBD). Blocking on purpose: both are request and reply, on this machine,
/// and are driven from the agent's tracking calls, which already run off the async pool.
final class UnixStream {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    let path: String

    init(connectingTo path: String, timeoutSeconds: Int = 30) throws(Failure) {
        self.path = path
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw Failure(description: "\(path): a Unix socket's path holds at most \(capacity - 1) bytes") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "\(path): \(why)")
        }
        // A peer that stops answering must not hang the agent: every read and write times out.
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) throws(Failure) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "\(path): writing: \(n < 0 ? String(cString: strerror(errno)) : "closed")") }
            sent += n
        }
    }

    /// Bytes received beyond the last line read (QMP): handed out first.
    private var pending: [UInt8] = []

    /// Fills `buffer` entirely.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Failure) {
        var got = min(pending.count, buffer.count)
        if got > 0 {
            buffer.copyBytes(from: pending[0..<got])
            pending.removeFirst(got)
        }
        while got < buffer.count {
            let n = Glibc.read(fd, buffer.baseAddress! + got, buffer.count - got)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw readFailure(n) }
            got += n
        }
    }

    func read(count: Int) throws(Failure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var failure: Failure?
        bytes.withUnsafeMutableBytes { raw in
            do throws(Failure) { try read(into: raw) } catch { failure = error }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Reads up to a newline (QMP's framing), without it.
    func readLine(limit: Int = 16 << 20) throws(Failure) -> [UInt8] {
        var searched = 0
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            if let newline = pending[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                return line
            }
            searched = pending.count
            guard pending.count <= limit else { throw Failure(description: "\(path): a line longer than \(limit) bytes") }
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw readFailure(n) }
            pending.append(contentsOf: chunk[0..<n])
        }
    }

    private func readFailure(_ n: Int) -> Failure {
        Failure(description: "\(path): reading: \(n < 0 ? String(cString: strerror(errno)) : "closed by the other end")")
    }
}
