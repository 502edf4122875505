import FerryCore
import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// TLS on the replication channel, the agent's side. Every byte after the TCP handshake is
/// inside TLS 1.3: no block crosses in clear. The agent trusts exactly one key, the project's
/// (`CertificatePin`), and says by ALPN that it speaks the replication protocol, since the
/// same port also serves the installer over HTTPS.
package enum ReplicationTLS {
    /// The ALPN name of the replication protocol on port 1500; anything else negotiated there
    /// (`http/1.1`, or nothing) is the installer's HTTPS.
    package static let applicationProtocol = "ferry-replication/\(ReplicationProtocol.version)"
    /// What agents of earlier versions ask for: the server still takes them as replication, so
    /// that they hear which version it speaks (and are told to update) instead of getting
    /// the installer's HTTPS.
    package static let earlierApplicationProtocols = (3..<ReplicationProtocol.version).map { "ferry-replication/\($0)" }
    package static let httpProtocol = "http/1.1"

    /// Adds the client's TLS handler to `channel`: the server's certificate must carry the
    /// pinned key, whatever its name, issuer or dates (it is the project's, self-signed).
    package static func addClientHandler(to channel: any Channel, pin: CertificatePin, rejected: PinRejection) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.applicationProtocols = [applicationProtocol]
        // Verification is the callback's: the pin, nothing else.
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let handler = try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, promise in
            guard let leaf = certificates.first, let key = try? leaf.extractPublicKey().toSPKIBytes() else {
                rejected.record("the server sent no certificate")
                promise.succeed(.failed)
                return
            }
            if pin.matches(publicKeyInfo: key) {
                promise.succeed(.certificateVerified)
            } else {
                rejected.record("its certificate's key is \(CertificatePin(publicKeyInfo: key)), not the pinned \(pin)")
                promise.succeed(.failed)
            }
        }
        try channel.pipeline.syncOperations.addHandler(handler)
    }

    /// Why the last handshake's certificate was refused: NIOSSL reports only that the
    /// verification failed, and the user needs to hear which key was found instead.
    package final class PinRejection: Sendable {
        private let reason = Mutex<String?>(nil)
        package init() {}
        func record(_ text: String) { reason.withLock { $0 = text } }
        package var last: String? { reason.withLock { $0 } }
    }
}
