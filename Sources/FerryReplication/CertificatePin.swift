import Crypto
import Foundation

/// What an agent trusts: the SHA-256 of the replication server's public key (its
/// SubjectPublicKeyInfo, DER), written as curl's `--pinnedpubkey` takes it, `sha256//BASE64`,
/// so that the installer's downloads and the agent's connections check the same pin. The
/// server's certificate is the project's own, self-signed; no certificate authority is
/// involved, and none could vouch for an address in a private staging subnet anyway.
public struct CertificatePin: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes of the digest.
    public let digest: [UInt8]

    public init(publicKeyInfo der: [UInt8]) {
        digest = Array(SHA256.hash(data: der))
    }

    /// Parses `sha256//BASE64`.
    public init(parsing text: String) throws(CertificatePinError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.prefix) else { throw CertificatePinError(text: text, reason: "a pin starts with \(Self.prefix)") }
        guard let bytes = Data(base64Encoded: String(trimmed.dropFirst(Self.prefix.count))), bytes.count == 32 else {
            throw CertificatePinError(text: text, reason: "after \(Self.prefix) comes the base64 of 32 bytes (a SHA-256)")
        }
        digest = Array(bytes)
    }

    static let prefix = "sha256//"

    public var description: String { Self.prefix + Data(digest).base64EncodedString() }

    /// Whether `der` (a SubjectPublicKeyInfo) is the pinned key; in constant time.
    public func matches(publicKeyInfo der: [UInt8]) -> Bool {
        let other = Array(SHA256.hash(data: der))
        var difference: UInt8 = 0
        for (a, b) in zip(digest, other) { difference |= a ^ b }
        return difference == 0
    }
}

public struct CertificatePinError: Error, Hashable, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "'\(text)' is not a certificate pin: \(reason)" }
}
