import Foundation

/// A disk read through a plugin. Reads are split into pieces of at most 4 MiB, each
/// answered with exactly the bytes asked for or refused; ranges are checked for order and
/// bounds. Concurrent readers take turns on the plugin's one conversation.
public final class ExternalBlockReader: BlockReader, @unchecked Sendable {
    /// The longest read one `source.read` asks for.
    public static let maximumReadLength = 4 << 20

    let connection: PluginConnection
    let handle: String
    public let size: UInt64
    let diskName: String

    init(connection: PluginConnection, handle: String, size: UInt64, diskName: String) {
        self.connection = connection
        self.handle = handle
        self.size = size
        self.diskName = diskName
    }

    deinit {
        if !connection.isStopped {
            _ = try? connection.call("source.closeDisk", HandleParams(handle: handle), as: PluginEmpty.self)
        }
    }

    private struct HandleParams: Encodable { var handle: String }
    private struct ReadParams: Encodable {
        var handle: String
        var offset: UInt64
        var length: Int
    }
    private struct ReadResult: Decodable { var length: Int }
    private struct Ranges: Decodable { var ranges: [ByteRange] }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: "\(connection.plugin):\(diskName)")
        var done = 0
        while done < buffer.count {
            let length = min(Self.maximumReadLength, buffer.count - done)
            try readPiece(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + length)]), at: offset + UInt64(done))
            done += length
        }
    }

    /// One `source.read`, without Ferry's own bounds check: the conformance kit uses it to
    /// see that the plugin itself refuses reads past the end.
    func readPiece(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(PluginError) {
        let result = try connection.call("source.read", ReadParams(handle: handle, offset: offset, length: buffer.count), as: ReadResult.self, into: buffer)
        guard result.length == buffer.count else {
            throw PluginError(plugin: connection.plugin, path: connection.path, method: "source.read",
                              reason: .inconsistent("its answer says \(result.length) bytes for a read of \(buffer.count) bytes"))
        }
    }

    public func allocatedRanges() throws -> [ByteRange] {
        // Empty ranges say nothing (a whole-disk range of an empty disk is one); they are dropped.
        let ranges = try connection.call("source.allocatedRanges", HandleParams(handle: handle), as: Ranges.self).ranges.filter { $0.length > 0 }
        var end: UInt64 = 0
        for (index, range) in ranges.enumerated() {
            let problem: String?
            if range.offset < end {
                problem = "range \(index) \(range) starts before the end of the range before it (\(end)); ranges must be sorted and must not overlap"
            } else if range.offset.addingReportingOverflow(range.length).overflow || range.end > size {
                problem = "range \(index) \(range) reaches past the end of the disk (\(size) bytes)"
            } else {
                problem = nil
            }
            if let problem {
                throw PluginError(plugin: connection.plugin, path: connection.path, method: "source.allocatedRanges", reason: .inconsistent(problem))
            }
            end = range.end
        }
        return ranges
    }
}
