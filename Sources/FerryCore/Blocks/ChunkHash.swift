import Crypto
import Foundation

/// The SHA-256 of a 512 KiB block: the chunk's address in the staging store, and the
/// checksum the EBS direct APIs ask for.
public struct ChunkHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    public init(hashing data: UnsafeRawBufferPointer) {
        bytes = Array(SHA256.hash(data: data))
    }

    public init(hashing data: [UInt8]) {
        bytes = data.withUnsafeBytes { Array(SHA256.hash(data: $0)) }
    }

    public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }
    public var description: String { hex }

    public static func < (lhs: ChunkHash, rhs: ChunkHash) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

}
