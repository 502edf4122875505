import Crypto
import FerryCore
import FerryReplication
import Foundation
import NIOSSL
import X509
#if canImport(Glibc)
import Glibc
#endif

/// The project's replication certificate: a P-256 key and a self-signed certificate, made
/// with the workspace's first replication server and kept beside the agent token. Agents pin
/// its key (`CertificatePin`), given to them by the installer, so the certificate needs no
/// authority and no name: a server without the key gets no agent's blocks, whatever address
/// it answers on. The key file is readable by its owner only and is never printed.
public struct ReplicationCertificate: Sendable {
    public let directory: URL

    public init(workspace: Workspace) {
        directory = workspace.root.appendingPathComponent("replication-tls")
    }

    var keyFile: URL { directory.appendingPathComponent("server-key.pem") }
    var certificateFile: URL { directory.appendingPathComponent("server-certificate.pem") }

    /// Creates the key and the certificate unless both exist.
    /// - Returns: whether they were created.
    @discardableResult
    public func createIfMissing(now: Date = Date()) throws -> Bool {
        let manager = FileManager.default
        if manager.fileExists(atPath: keyFile.path), manager.fileExists(atPath: certificateFile.path) { return false }
        try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Ferry")
            CommonName("Ferry replication server")
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(20 * 365 * 86400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
            },
            issuerPrivateKey: .init(key)
        )
        try Self.writePrivately(key.pemRepresentation, to: keyFile)
        try Self.writePrivately(try certificate.serializeAsPEM().pemString, to: certificateFile, mode: 0o644)
        return true
    }

    /// The pin agents check: the SHA-256 of the certificate's public key.
    public func pin() throws -> CertificatePin {
        let certificate = try loadCertificate()
        return CertificatePin(publicKeyInfo: try certificate.extractPublicKey().toSPKIBytes())
    }

    func loadCertificate() throws -> NIOSSLCertificate {
        do {
            return try NIOSSLCertificate(file: certificateFile.path, format: .pem)
        } catch {
            throw ReplicationServerError.certificate(path: certificateFile.path, reason: "\(error)")
        }
    }

    /// The TLS configuration of the server: TLS 1.3 only, and ALPN choosing between the
    /// replication protocol and the installer's HTTPS on the same port.
    func serverConfiguration() throws -> TLSConfiguration {
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile.path, format: .pem)
        } catch {
            throw ReplicationServerError.certificate(path: keyFile.path, reason: "\(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(try loadCertificate())], privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = [ReplicationTLS.applicationProtocol] + ReplicationTLS.earlierApplicationProtocols + [ReplicationTLS.httpProtocol]
        return configuration
    }

    private static func writePrivately(_ text: String, to file: URL, mode: mode_t = 0o600) throws {
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(getpid())")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WorkspaceError.file(path: temporary.path, operation: "create", message: String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == bytes.count, rename(temporary.path, file.path) == 0 else {
            throw WorkspaceError.file(path: file.path, operation: "write", message: String(cString: strerror(errno)))
        }
    }
}
