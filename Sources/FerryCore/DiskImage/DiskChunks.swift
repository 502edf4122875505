import Dispatch
import Foundation
import Synchronization

/// One aligned piece of a disk, read, with the blocks in it that are not all zeros.
public struct DiskChunk: Sendable {
    public var offset: UInt64
    public var bytes: [UInt8]
    /// Indexes (within the chunk) of the `blockSize` blocks holding a non-zero byte.
    public var nonZeroBlocks: [Int]
}

/// Reads the allocated parts of a disk in aligned chunks, several at once (decompressing a
/// VMDK grain costs more than writing it), and hands them over in disk order. The next
/// batch is read while the current one is consumed; memory stays at two batches of
/// `concurrency` chunks whatever the disk's size.
public enum DiskChunks {
    public static let defaultChunkSize = 4 << 20

    /// Calls `consume` with each chunk that overlaps an allocated range, in order; `work`
    /// runs beside the reads (compression, for example), concurrently, on the same chunk.
    public static func forEach<T: Sendable>(
        in reader: any BlockReader,
        blockSize: Int,
        chunkSize: Int = defaultChunkSize,
        concurrency: Int = min(8, max(2, ProcessInfo.processInfo.activeProcessorCount)),
        work: @escaping @Sendable (DiskChunk) throws -> T,
        consume: (T, DiskChunk) throws -> Void
    ) throws {
        precondition(chunkSize % blockSize == 0)
        let chunks = ByteRange.blockIndexes(covering: try allocatedRanges(within: reader), blockSize: UInt64(chunkSize))
        let batches = stride(from: 0, to: chunks.count, by: concurrency).map { Array(chunks[$0..<min($0 + concurrency, chunks.count)]) }

        /// Starts reading `batch` in the background; `wait` returns its chunks.
        func start(_ batch: [UInt64]) -> InFlightBatch<(T, DiskChunk)> {
            let inFlight = InFlightBatch<(T, DiskChunk)>(count: batch.count)
            DispatchQueue.global().async {
                DispatchQueue.concurrentPerform(iterations: batch.count) { slot in
                    inFlight.set(slot) {
                        let offset = batch[slot] * UInt64(chunkSize)
                        let count = Int(min(UInt64(chunkSize), reader.size - offset))
                        // Not zero-filled first: the reader fills every byte.
                        let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                            try reader.read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
                            initialized = count
                        }
                        let chunk = DiskChunk(offset: offset, bytes: bytes, nonZeroBlocks: nonZeroBlocks(bytes, blockSize: blockSize))
                        return (try work(chunk), chunk)
                    }
                }
                inFlight.finish()
            }
            return inFlight
        }

        var pending = batches.first.map(start)
        for index in batches.indices {
            guard let current = pending else { break }
            let results = current.wait()
            pending = index + 1 < batches.count ? start(batches[index + 1]) : nil
            do {
                for result in results {
                    let (value, chunk) = try result.get()
                    try consume(value, chunk)
                }
            } catch {
                _ = pending?.wait()  // let the read in flight end before the reader goes
                throw error
            }
        }
    }

    /// The total of the allocated ranges, for progress.
    public static func allocatedBytes(_ reader: any BlockReader) throws -> UInt64 {
        try allocatedRanges(within: reader).reduce(0) { $0 + $1.length }
    }

    /// The reader's allocated ranges, merged and cut at its end. A reader's claim is not
    /// trusted (a damaged image, a plugin): a range past the end would make a chunk's
    /// `size - offset` trap, and overlapping ranges would add up to more than the disk.
    static func allocatedRanges(within reader: any BlockReader) throws -> [ByteRange] {
        let size = reader.size
        return ByteRange.coalesce(try reader.allocatedRanges().compactMap { range in
            guard range.offset < size else { return nil }
            return ByteRange(offset: range.offset, length: min(range.length, size - range.offset))
        })
    }

    static func nonZeroBlocks(_ bytes: [UInt8], blockSize: Int) -> [Int] {
        bytes.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count, by: blockSize).enumerated().compactMap { index, start in
                isZero(UnsafeRawBufferPointer(rebasing: raw[start..<min(start + blockSize, raw.count)])) ? nil : index
            }
        }
    }

    public static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let words = bytes.count / 8
        while index < words {
            if bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) != 0 { return false }
            index += 1
        }
        for byteIndex in (words * 8)..<bytes.count where bytes[byteIndex] != 0 { return false }
        return true
    }
}

/// One batch of chunks being read in the background: each iteration fills its own slot.
private final class InFlightBatch<T: Sendable>: Sendable {
    private let slots: Mutex<[Result<T, any Error>?]>
    /// Signalled once every slot is filled: a signal, not a lock.
    private let done = DispatchSemaphore(value: 0)

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func set(_ slot: Int, _ body: () throws -> T) {
        let result = Result { try body() }
        slots.withLock { $0[slot] = result }
    }

    func finish() { done.signal() }

    func wait() -> [Result<T, any Error>] {
        done.wait()
        return slots.withLock { $0.map { $0! } }
    }
}
