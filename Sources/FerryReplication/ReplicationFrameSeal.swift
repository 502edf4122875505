import Crypto
import FerryCore
import Foundation
import NIOCore
import Synchronization

/// The integrity of every frame after the handshake. The handshake proves that both ends
/// hold the project token; from then on each frame carries an HMAC-SHA256 tag keyed from the
/// token and both nonces, one key per direction, over the frame's sequence number in its
/// direction, its type and its payload. A man in the middle who relays the handshake can then
/// neither change a block (and its SHA-256), nor inject, drop, replay or reorder a frame: the
/// receiver closes the connection at the first tag that does not match.
///
/// This is integrity, not secrecy: the blocks still cross in clear until the channel has TLS.
/// Hand-written on swift-crypto's HMAC because it is a few lines on the frame format.
package final class ReplicationFrameSeal: Sendable {
    package init() {}
    package static let tagLength = 32

    package enum Role: Sendable { case agent, server }

    private struct Keys {
        package var send: SymmetricKey
        package var receive: SymmetricKey
        package var sent: UInt64 = 0
        package var received: UInt64 = 0
    }

    private let keys = Mutex<Keys?>(nil)

    /// From now on every frame sent is sealed (but the server's `welcome`, which the agent
    /// needs to derive the same keys) and every frame received must be.
    package func activate(token: Secret, serverNonce: [UInt8], agentNonce: [UInt8], role: Role) {
        let toServer = ReplicationAuthentication.frameKey(token: token, direction: "agent-to-server", serverNonce: serverNonce, agentNonce: agentNonce)
        let toAgent = ReplicationAuthentication.frameKey(token: token, direction: "server-to-agent", serverNonce: serverNonce, agentNonce: agentNonce)
        keys.withLock {
            $0 = role == .agent ? Keys(send: toServer, receive: toAgent) : Keys(send: toAgent, receive: toServer)
        }
    }

    package var isActive: Bool { keys.withLock { $0 != nil } }

    /// The tag of the next frame sent, over its body (`type | payload`, given in parts so
    /// that a block's data need not be copied next to its head), or nil while the seal is not
    /// active and frames go unsealed.
    package func nextTag(over parts: ByteBuffer...) -> [UInt8]? {
        keys.withLock { keys -> [UInt8]? in
            guard keys != nil else { return nil }
            defer { keys!.sent += 1 }
            return Self.tag(key: keys!.send, sequence: keys!.sent, parts: parts)
        }
    }

    /// Checks the tag at the end of a received frame's body (`type | payload | tag`) and
    /// returns the body without it.
    package func open(_ body: ByteBuffer) throws(ReplicationProtocolError) -> ByteBuffer {
        guard body.readableBytes > Self.tagLength else { throw .integrity("a frame of \(body.readableBytes) bytes is too short to carry its tag") }
        let content = body.getSlice(at: body.readerIndex, length: body.readableBytes - Self.tagLength)!
        let tag = body.getBytes(at: body.readerIndex + content.readableBytes, length: Self.tagLength)!
        let valid = keys.withLock { keys -> Bool? in
            guard keys != nil else { return nil }
            let expected = Self.tag(key: keys!.receive, sequence: keys!.received, parts: [content])
            guard ReplicationAuthentication.verify(tag, equals: expected) else { return false }
            keys!.received += 1
            return true
        }
        switch valid {
        case nil: throw .integrity("a frame arrived before the handshake completed")
        case false?: throw .integrity("a frame's tag does not match: it was changed, replayed or injected on the way")
        case true?: return content
        }
    }

    private static func tag(key: SymmetricKey, sequence: UInt64, parts: [ByteBuffer]) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key)
        withUnsafeBytes(of: sequence.bigEndian) { hmac.update(data: $0) }
        for part in parts { part.withUnsafeReadableBytes { hmac.update(data: $0) } }
        return Array(hmac.finalize())
    }
}
