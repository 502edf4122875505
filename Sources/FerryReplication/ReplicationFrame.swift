import FerryCore
import Foundation
import NIOCore

/// The messages of the replication protocol (docs/replication-protocol.md), version 2.
/// Every frame on the wire is `length: UInt32 BE` (of what follows), `type: UInt8`, payload.
package enum ReplicationFrame: Hashable, Sendable {
    /// Server → agent, first frame of a connection: the protocol version and a fresh nonce.
    case challenge(version: UInt16, serverNonce: [UInt8])
    /// Agent → server: proof that the agent holds the project token, without sending it.
    case authenticate(version: UInt16, agentNonce: [UInt8], proof: [UInt8])
    /// Server → agent: authentication accepted; the server's own proof that it holds the token.
    case welcome(serverProof: [UInt8])
    /// Either side: the connection is refused or aborted; the sender closes after it.
    case refused(reason: String)
    /// Server → agent: the server could not do what the agent asked (it could not store a
    /// block, say); it closes the connection after it. Unlike `refused`, trying again later
    /// may succeed.
    case failed(reason: String)
    /// Agent → server: the machine's facts (JSON of `MachineFacts`) and a stable identity.
    case register(agentIdentity: String, factsJSON: [UInt8])
    /// Server → agent: the source server id the machine is recorded as.
    case registered(sourceServerID: String)
    /// Server → agent: some of the blocks the server already holds for a disk.
    case inventory(disk: UInt32, entries: [InventoryEntry])
    /// Server → agent: the inventory is complete for every disk.
    case inventoryEnd
    /// Agent → server: a block's content. `compressed` data is zlib-deflated. The data is a
    /// `ByteBuffer` so that it goes from the socket to the store, and from the agent's read
    /// to the socket, without being copied again.
    case block(disk: UInt32, index: UInt64, sha256: [UInt8], compressed: Bool, data: ByteBuffer)
    /// Agent → server: some 4 KiB pages of a block (`pages`: their indexes in the block, and
    /// `data` their bytes in that order), to write over the block the server holds, whose
    /// hash is `base`. Answered by `patched` with the new block's hash, or `nack` (the
    /// server holds another version: the agent sends the whole block).
    case patch(disk: UInt32, index: UInt64, base: [UInt8], pages: [UInt8], data: ByteBuffer)
    /// Server → agent: the patch is stored; the block's hash is now `sha256`.
    case patched(disk: UInt32, index: UInt64, sha256: [UInt8])
    /// Agent → server: the block now reads as zeros (it held data before).
    case trim(disk: UInt32, index: UInt64)
    /// Server → agent: the block (or trim) is stored.
    case ack(disk: UInt32, index: UInt64)
    /// Server → agent: the block was not stored (its hash did not match); send it again.
    case nack(disk: UInt32, index: UInt64, reason: String)
    /// Agent → server: how much of the current pass remains, for lag, backlog and ETA.
    /// `oldestPendingWrite` (seconds since 1970, 0 when none or unknown) is when the oldest
    /// write not yet in a committed point in time was seen: the lag.
    case progress(pass: UInt64, bytesDone: UInt64, bytesTotal: UInt64, backlogBytes: UInt64, oldestPendingWrite: Double)
    /// Agent → server: how it follows the machine's writes from now on; `rescanning` when it
    /// reads every block again first, the description saying why.
    case tracking(rescanning: Bool, description: String)
    /// Agent → server: every block of the pass is acknowledged; commit a consistent point.
    case endOfPass(pass: UInt64, sourceTime: Double)
    /// Server → agent: the pass is committed as a snapshot.
    case committed(pass: UInt64, snapshotID: String)
    /// Either side: keep-alive.
    case heartbeat
    /// Agent → server: this agent stops replicating now (a one-shot run done, an installer's
    /// check): the end of the connection is a stop, not a lost agent.
    case goodbye

    public struct InventoryEntry: Hashable, Sendable {
        public var index: UInt64
        public var sha256: [UInt8]
        public init(index: UInt64, sha256: [UInt8]) {
            self.index = index
            self.sha256 = sha256
        }
    }

    /// The frame's type: its code on the wire and its name.
    public var type: ReplicationFrameType {
        switch self {
        case .challenge: return .challenge
        case .authenticate: return .authenticate
        case .welcome: return .welcome
        case .refused: return .refused
        case .failed: return .failed
        case .register: return .register
        case .registered: return .registered
        case .inventory: return .inventory
        case .inventoryEnd: return .inventoryEnd
        case .block: return .block
        case .trim: return .trim
        case .patch: return .patch
        case .patched: return .patched
        case .ack: return .ack
        case .nack: return .nack
        case .progress: return .progress
        case .tracking: return .tracking
        case .endOfPass: return .endOfPass
        case .committed: return .committed
        case .heartbeat: return .heartbeat
        case .goodbye: return .goodbye
        }
    }

    public var name: String { type.name }
}

/// The type byte of each frame: written once, for the encoder and the decoder alike.
package enum ReplicationFrameType: UInt8, Sendable, CaseIterable {
    case challenge = 1, authenticate = 2, welcome = 3, refused = 4, failed = 5
    case register = 10, registered = 11, inventory = 12, inventoryEnd = 13
    case block = 20, trim = 21, ack = 22, nack = 23, progress = 24, tracking = 25, patch = 26, patched = 27
    case endOfPass = 30, committed = 31
    case heartbeat = 40, goodbye = 41

    public var name: String {
        switch self {
        case .inventoryEnd: return "inventory-end"
        case .endOfPass: return "end-of-pass"
        default: return "\(self)"
        }
    }
}

public enum ReplicationProtocol {
    public static let version: UInt16 = 5
    /// A block's pages: what a tracked write marks, and what a patch carries.
    public static let pageSize = 4096
    /// A block with more pages written than this goes whole: a patch saves little then.
    public static let maximumPatchPages = 32
    /// The EBS block size: replication, the staging store and EBS imports share it.
    public static let blockSize = BlockSize.bytes
    public static let nonceLength = 32
    /// No frame may be larger: a block with its header, with room to spare.
    public static let maximumFrameLength = blockSize + 4096
    /// Before authentication only tiny frames are accepted, so that an unauthenticated peer
    /// cannot make the server allocate.
    public static let maximumUnauthenticatedFrameLength = 1024
    public static let inventoryEntriesPerFrame = 8192
    /// The largest disk an agent may register: 64 TiB, the largest EBS volume. Every offset
    /// and block count of such a disk fits in 64 bits with room to spare.
    public static let maximumDiskSize: UInt64 = 64 << 40
}
