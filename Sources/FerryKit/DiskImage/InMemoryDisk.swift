import FerryCore
/// A disk held in memory: small images, parsers' inputs in tests, and the bytes of a
/// descriptor or a table already read from a larger file.
public struct InMemoryDisk: BlockReader {
    public let name: String
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8], name: String = "memory") {
        self.bytes = bytes
        self.name = name
    }

    public var size: UInt64 { UInt64(bytes.count) }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: name)
        guard buffer.count > 0 else { return }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[Int(offset)..<Int(offset) + buffer.count]))
        }
    }

    public func allocatedRanges() throws -> [ByteRange] {
        bytes.isEmpty ? [] : [ByteRange(offset: 0, length: size)]
    }
}
