import FerryCore
import Foundation
import Synchronization

/// A disk read through a plugin. Reads are split into pieces of at most 4 MiB, each
/// answered with exactly the bytes asked for or refused; ranges are checked for order and
/// bounds. Concurrent reads go to as many of the plugin's processes as it allows; each
/// process has its own handle for the disk, opened on its first read, so that a process
/// started again after a crash opens the disk again before it reads.
public final class ExternalBlockReader: BlockReader, @unchecked Sendable {
    /// The longest read one `source.read` asks for.
    public static let maximumReadLength = 4 << 20

    /// The plugin the disk is read through (whether it still is: `plugin.stoppedReason`).
    public let plugin: ExternalPlugin
    let disk: DiskFacts
    let options: [String: String]
    private let handles = Mutex<[ObjectIdentifier: (connection: PluginConnection, handle: String)]>([:])
    /// The size the plugin gave when the disk was first opened.
    public let size: UInt64

    private init(plugin: ExternalPlugin, disk: DiskFacts, options: [String: String], size: UInt64) {
        self.plugin = plugin
        self.disk = disk
        self.options = options
        self.size = size
    }

    /// Opens `disk` in `connection`'s process, so that a missing disk or a wrong size is an
    /// error at once and not at the first read; other processes open it when they first read.
    static func open(plugin: ExternalPlugin, disk: DiskFacts, options: [String: String], on connection: PluginConnection) throws(PluginError) -> ExternalBlockReader {
        // A size of 0 in discovery means "not known yet" (a disk named by hand).
        let opened = try openDisk(disk, options: options, on: connection, expecting: disk.sizeBytes == 0 ? nil : disk.sizeBytes)
        let reader = ExternalBlockReader(plugin: plugin, disk: disk, options: options, size: opened.sizeBytes)
        reader.handles.withLock { $0[ObjectIdentifier(connection)] = (connection, opened.handle) }
        return reader
    }

    deinit {
        // Briefly: closing is a courtesy (the process frees the handle at its end anyway),
        // and a plugin that does not answer must not hold up whoever dropped the reader.
        for (connection, handle) in handles.withLock({ $0.values }) where !connection.isStopped {
            _ = try? connection.call("source.closeDisk", HandleParams(handle: handle), as: PluginEmpty.self, timeout: 2)
        }
    }

    private var label: String { "\(plugin.descriptor.name):\(disk.name)" }

    private struct HandleParams: Encodable { var handle: String }
    private struct ReadParams: Encodable {
        var handle: String
        var offset: UInt64
        var length: Int
    }
    private struct ReadResult: Decodable { var length: Int }
    private struct Ranges: Decodable { var ranges: [ByteRange] }
    private struct OpenedDisk: Decodable {
        var handle: String
        var sizeBytes: UInt64
    }

    /// This disk's handle in `connection`'s process, opened there on first use with the
    /// size every process must give.
    func handle(on connection: PluginConnection) throws(PluginError) -> String {
        let key = ObjectIdentifier(connection)
        if let known = handles.withLock({ $0[key]?.handle }) { return known }
        let opened = try Self.openDisk(disk, options: options, on: connection, expecting: size)
        handles.withLock { $0[key] = (connection, opened.handle) }
        return opened.handle
    }

    private static func openDisk(_ disk: DiskFacts, options: [String: String], on connection: PluginConnection, expecting expected: UInt64?) throws(PluginError) -> OpenedDisk {
        let opened = try connection.call("source.openDisk", DiskParams(options: options, disk: disk), as: OpenedDisk.self)
        if let expected, opened.sizeBytes != expected {
            throw connection.fail(method: "source.openDisk", "disk '\(disk.name)' was discovered with \(expected) bytes but opens with \(opened.sizeBytes)")
        }
        return opened
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: label)
        var done = 0
        while done < buffer.count {
            let length = min(Self.maximumReadLength, buffer.count - done)
            try readPiece(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + length)]), at: offset + UInt64(done))
            done += length
        }
    }

    /// One `source.read`, without Ferry's own bounds check: the conformance kit uses it to
    /// see that the plugin itself refuses reads past the end.
    func readPiece(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try plugin.withConnection(retrying: true) { connection in
            let result = try connection.call("source.read", ReadParams(handle: try handle(on: connection), offset: offset, length: buffer.count), as: ReadResult.self, into: buffer)
            guard result.length == buffer.count else {
                throw connection.fail(method: "source.read", "its answer says \(result.length) bytes for a read of \(buffer.count) bytes")
            }
        }
    }

    public func allocatedRanges() throws -> [ByteRange] {
        // Empty ranges say nothing (a whole-disk range of an empty disk is one); they are dropped.
        let (ranges, connection) = try plugin.withConnection(retrying: true) { connection in
            (try connection.call("source.allocatedRanges", HandleParams(handle: try handle(on: connection)), as: Ranges.self).ranges.filter { $0.length > 0 }, connection)
        }
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
                throw connection.fail(method: "source.allocatedRanges", problem)
            }
            end = range.end
        }
        return ranges
    }
}
