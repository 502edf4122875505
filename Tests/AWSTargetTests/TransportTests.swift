import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit
#if canImport(Glibc)
import Glibc
#endif

/// Timeouts and retries against endpoints that fail below HTTP.
@Suite struct TransportTests {
    /// A socket on 127.0.0.1 that listens but never answers: connections complete in the
    /// kernel's backlog, and requests wait forever.
    final class SilentListener: @unchecked Sendable {
        let fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            guard ok else {
                close(fd)
                throw MotoError("cannot listen on 127.0.0.1")
            }
            self.fd = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(fd) }
    }

    static func adapter(endpoint: String, attempts: Int, timeout: Double) -> AWSTargetAdapter {
        AWSTargetAdapter(
            environment: ["HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "AKIAX", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": endpoint],
            tuning: AWSTuning(retry: RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, maxDelay: 0.05), requestTimeout: timeout)
        )
    }

    @Test("a refused connection is retried, then reported with the endpoint and the number of attempts")
    func refusedConnection() async throws {
        var listener: SilentListener? = try SilentListener()
        let port = listener!.port
        listener = nil  // closed: nothing listens on the port any more
        let error = await #expect(throws: AWSTransportError.self) {
            _ = try await Self.adapter(endpoint: "http://127.0.0.1:\(port)", attempts: 3, timeout: 5).callerIdentity()
        }
        #expect(error?.attempts == 3)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
    }

    @Test("a server that never answers times out, is retried, and is reported as unreachable")
    func silentServerTimesOut() async throws {
        let listener = try SilentListener()
        let started = Date()
        let error = await #expect(throws: AWSTransportError.self) {
            _ = try await Self.adapter(endpoint: "http://127.0.0.1:\(listener.port)", attempts: 2, timeout: 1).callerIdentity()
        }
        #expect(error?.attempts == 2)
        #expect(Date().timeIntervalSince(started) < 10)
        withExtendedLifetime(listener) {}
    }
}
