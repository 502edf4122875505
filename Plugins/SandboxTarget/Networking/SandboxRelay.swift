import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One guest connection to a service endpoint, as QEMU hands it over: `guestfwd=…-cmd:` starts
/// `ferry sandbox relay` for each connection with the guest's socket as its standard input,
/// output and error. The relay asks the security groups (`reachability`), connects to the
/// process on 127.0.0.1 and copies bytes both ways; every second it asks again, and a rule
/// removed meanwhile ends the connection, as the sandbox's stand-in for a network that stops
/// letting packets through. Every decision goes to the flow log. Nothing is ever written to
/// the standard error: it is the guest's connection.
public struct SandboxRelay {
    let cloud: SandboxCloud
    let instanceID: String
    let address: String
    let port: Int

    public init(cloud: SandboxCloud, instanceID: String, address: String, port: Int) {
        self.cloud = cloud
        self.instanceID = instanceID
        self.address = address
        self.port = port
    }

    /// Relays until either side closes or the rules stop allowing it.
    public func run(guestIn: Int32 = 0, guestOut: Int32 = 1) {
        let destination = "\(address):\(port)"
        let decision = (try? cloud.reachability(from: instanceID, to: address, port: port)) ?? .refused(sourceIP: "?", reason: "the sandbox's records cannot be read")
        guard case .allowed(let sourceIP, let hostPort) = decision else {
            if case .refused(let sourceIP, let reason) = decision {
                cloud.recordFlow(instanceID: instanceID, sourceIP: sourceIP, destination: destination, accepted: false, reason: reason)
            }
            return
        }
        guard let service = Self.connectLocal(port: hostPort) else {
            cloud.recordFlow(instanceID: instanceID, sourceIP: sourceIP, destination: destination, accepted: false,
                             reason: "nothing answers behind \(destination) (127.0.0.1:\(hostPort) refused the connection)")
            return
        }
        defer { close(service) }
        cloud.recordFlow(instanceID: instanceID, sourceIP: sourceIP, destination: destination, accepted: true, reason: nil)
        var guestOpen = true
        var serviceOpen = true
        var lastCheck = Date()
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        while guestOpen || serviceOpen {
            var fds = [pollfd(fd: guestOpen ? guestIn : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: serviceOpen ? service : -1, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, 1000)
            if ready < 0 && errno != EINTR { return }
            if fds[0].revents != 0 {
                if !copy(from: guestIn, to: service, buffer: &buffer) {
                    guestOpen = false
                    shutdown(service, Int32(SHUT_WR))
                }
            }
            if fds[1].revents != 0 {
                if !copy(from: service, to: guestOut, buffer: &buffer) {
                    serviceOpen = false
                    shutdown(guestOut, Int32(SHUT_WR))
                }
            }
            if !guestOpen && !serviceOpen { return }
            if Date().timeIntervalSince(lastCheck) >= 1 {
                lastCheck = Date()
                if case .refused(let sourceIP, let reason)? = try? cloud.reachability(from: instanceID, to: address, port: port) {
                    cloud.recordFlow(instanceID: instanceID, sourceIP: sourceIP, destination: destination, accepted: false, reason: reason)
                    shutdown(guestOut, Int32(SHUT_RDWR))
                    return
                }
            }
        }
    }

    /// Moves what is there to read; false at the end of the input or on an error.
    private func copy(from source: Int32, to destination: Int32, buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return true }
        guard count > 0 else { return false }
        var written = 0
        while written < count {
            let n = buffer.withUnsafeBytes { Glibc.send(destination, $0.baseAddress! + written, count - written, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == ENOTSOCK {
                // A pipe rather than a socket (a test's): plain write.
                let m = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + written, count - written) }
                guard m > 0 else { return false }
                written += m
                continue
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            written += n
        }
        return true
    }

    private static func connectLocal(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { close(fd); return nil }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }
}
