import FerryCore
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One append-only file of chunks. Appends go to the end with positioned writes, reads are
/// positioned too (`PositionalFile`), so readers never disturb the writer.
final class SegmentFile: @unchecked Sendable {
    // @unchecked: `length` changes only in `append`, and callers serialise appends
    // (StagingStore's lock); reads use no shared state.
    let number: Int
    let path: String
    private let file: PositionalFile
    private(set) var length: UInt64

    init(number: Int, path: String, create: Bool) throws {
        do {
            file = try PositionalFile(path: path, flags: create ? (O_RDWR | O_CREAT) : O_RDWR, mode: 0o600)
            length = try file.length()
        } catch {
            throw Self.storeError(error)
        }
        self.number = number
        self.path = path
    }

    /// Appends `data` and returns the offset where it starts.
    func append(_ data: UnsafeRawBufferPointer) throws -> UInt64 {
        let offset = length
        do { try file.write(data, at: offset) } catch { throw Self.storeError(error) }
        length += UInt64(data.count)
        return offset
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        let read: Int
        do { read = try file.read(into: buffer, at: offset) } catch { throw Self.storeError(error) }
        if read < buffer.count { throw StagingStoreError.corrupt("\(path) ends at \(offset + UInt64(read)), before a chunk it indexes") }
    }

    func sync() throws {
        do { try file.sync() } catch { throw Self.storeError(error) }
    }

    private static func storeError(_ error: FileIOError) -> StagingStoreError {
        .io(path: error.path, operation: error.operation, message: error.message)
    }
}
