import CZlib
import FerryCore

/// zlib for blocks on the wire (`--compress`). Level 1: replication is usually limited by
/// the CPU before the network on fast links, so compression is off by default and cheap
/// when on.
public enum BlockCompression {
    public static func compress(_ data: UnsafeRawBufferPointer) -> [UInt8]? {
        var bound = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(bound))
        let status = out.withUnsafeMutableBytes { target in
            compress2(target.baseAddress!.assumingMemoryBound(to: Bytef.self), &bound,
                      data.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(data.count), 1)
        }
        guard status == Z_OK else { return nil }
        out.removeSubrange(Int(bound)...)
        return out
    }

    /// Inflates `data`, which must expand to exactly `expectedLength` bytes: never more is
    /// allocated, whatever the peer sends.
    public static func decompress(_ data: UnsafeRawBufferPointer, expectedLength: Int) throws(ReplicationProtocolError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: expectedLength)
        var length = uLongf(expectedLength)
        guard let source = data.baseAddress else { throw .malformed("compressed block is empty") }
        let status = out.withUnsafeMutableBytes { target in
            uncompress(target.baseAddress!.assumingMemoryBound(to: Bytef.self), &length,
                       source.assumingMemoryBound(to: Bytef.self), uLong(data.count))
        }
        guard status == Z_OK, Int(length) == expectedLength else {
            throw .malformed("compressed block does not inflate to \(expectedLength) bytes (zlib status \(status))")
        }
        return out
    }
}
