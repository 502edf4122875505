import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP port of 127.0.0.1 that nothing listens on now, for a process that must be told its
/// port before it starts (the replication server, placed in a subnet that relays to it).
enum LocalPort {
    static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WorkspaceError.file(path: "127.0.0.1", operation: "open a socket", message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw WorkspaceError.file(path: "127.0.0.1", operation: "find a free port", message: String(cString: strerror(errno))) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
