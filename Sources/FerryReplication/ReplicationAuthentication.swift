import Crypto
import FerryCore
import Foundation

/// The HMAC challenge-response of the handshake. The token never crosses the wire: each side
/// proves it holds it by a MAC over both nonces, with a different label per direction so
/// that one side's proof cannot be replayed as the other's.
public enum ReplicationAuthentication {
    public static func makeNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<ReplicationProtocol.nonceLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    public static func agentProof(token: Secret, serverNonce: [UInt8], agentNonce: [UInt8]) -> [UInt8] {
        mac(token: token, label: "ferry-replication-v2 agent", serverNonce, agentNonce)
    }

    public static func serverProof(token: Secret, serverNonce: [UInt8], agentNonce: [UInt8]) -> [UInt8] {
        mac(token: token, label: "ferry-replication-v2 server", serverNonce, agentNonce)
    }

    /// The key that seals the frames of one direction after the handshake
    /// (`ReplicationFrameSeal`): fresh for every connection, since both nonces are.
    package static func frameKey(token: Secret, direction: String, serverNonce: [UInt8], agentNonce: [UInt8]) -> SymmetricKey {
        SymmetricKey(data: mac(token: token, label: "ferry-replication-v2 frames \(direction)", serverNonce, agentNonce))
    }

    /// Compares in constant time.
    public static func verify(_ proof: [UInt8], equals expected: [UInt8]) -> Bool {
        guard proof.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(proof, expected) { difference |= a ^ b }
        return difference == 0
    }

    private static func mac(token: Secret, label: String, _ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Array(token.reveal().utf8)))
        hmac.update(data: Array(label.utf8))
        hmac.update(data: first)
        hmac.update(data: second)
        return Array(hmac.finalize())
    }
}
