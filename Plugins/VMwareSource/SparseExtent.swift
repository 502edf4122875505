import CZlib
import FerryCore
import Foundation
import Synchronization

/// The data of one hosted sparse extent: a grain directory pointing to grain tables
/// pointing to grains, plain or deflate-compressed (streamOptimized).
///
/// Written by hand (no Swift package reads VMDK), after "Virtual Disk Format 5.0".
/// Grain table entries: 0 means the grain is not in this file (zeros, or the parent's data
/// in a snapshot chain), 1 means a grain of zeros, anything else is the grain's sector.
final class SparseExtent: @unchecked Sendable {
    // @unchecked: `file` is a BlockReader, safe to read from any thread; everything else is
    // immutable after init except the grain-table cache, a Mutex.
    let file: any BlockReader
    let name: String
    let header: SparseExtentHeader
    /// Grain directory: the sector of each grain table, 0 when the table is absent.
    let directory: [UInt32]
    private let tableCache = Mutex<[Int: [UInt32]]>([:])
    /// Grain tables kept in memory: 4 MiB of entries (2048 tables of the usual 512).
    private let maxCachedTables: Int

    var size: UInt64 { header.capacity * 512 }

    init(file: any BlockReader, name: String) throws {
        self.file = file
        self.name = name
        guard file.size >= 512 else { throw VMwareSourceError.invalid(file: name, reason: "file is truncated (\(file.size) bytes, less than a sparse extent header)") }
        var header = try SparseExtentHeader.parse(try file.read(at: 0, count: 512), file: name)
        if header.gdOffset == SparseExtentHeader.gdAtEnd {
            // streamOptimized: the grain directory's place is in the footer, a copy of the
            // header 1024 bytes before the end (then comes the end-of-stream marker).
            guard file.size >= 1536 else { throw VMwareSourceError.invalid(file: name, reason: "streamOptimized file is truncated: no room for a footer") }
            let footer = try SparseExtentHeader.parse(try file.read(at: file.size - 1024, count: 512), file: name + " (footer)")
            guard footer.gdOffset != SparseExtentHeader.gdAtEnd else {
                throw VMwareSourceError.invalid(file: name, reason: "streamOptimized footer does not say where the grain directory is")
            }
            header.gdOffset = footer.gdOffset
        }
        self.header = header
        let tableCount = header.tableCount
        let (gdBytes, overflowBytes) = tableCount.multipliedReportingOverflow(by: 4)
        let (gdStart, overflowStart) = header.gdOffset.multipliedReportingOverflow(by: 512)
        guard !overflowBytes, !overflowStart, gdStart <= file.size, gdBytes <= file.size - gdStart else {
            throw VMwareSourceError.invalid(file: name, reason: "grain directory (\(tableCount) entries at sector \(header.gdOffset)) lies past the end of the file")
        }
        let raw = try file.read(at: gdStart, count: Int(gdBytes))
        directory = (0..<Int(tableCount)).map { raw.le32($0 * 4) }
        // Grain tables must not share sectors: then walking them all costs at most one
        // pass over the file, whatever the directory says.
        let tableSectors = UInt64(header.numGTEsPerGT) * 4 / 512
        let used = directory.filter { $0 != 0 }.sorted()
        for (previous, next) in zip(used, used.dropFirst()) where UInt64(next) - UInt64(previous) < max(1, tableSectors) {
            throw VMwareSourceError.invalid(file: name, reason: "grain tables at sectors \(previous) and \(next) overlap")
        }
        maxCachedTables = max(1, (1 << 20) / Int(header.numGTEsPerGT))
    }

    /// The grain table `index`, read once and cached.
    private func table(_ index: Int) throws -> [UInt32]? {
        let sector = directory[index]
        if sector == 0 { return nil }
        if let cached = tableCache.withLock({ $0[index] }) { return cached }
        let table = try readTable(index: index, sector: sector)
        let maxCachedTables = self.maxCachedTables
        tableCache.withLock { cache in
            if cache.count >= maxCachedTables { cache.removeAll(keepingCapacity: true) }
            cache[index] = table
        }
        return table
    }

    private func readTable(index: Int, sector: UInt32) throws -> [UInt32] {
        let bytes = Int(header.numGTEsPerGT) * 4
        let start = UInt64(sector) * 512
        guard start <= file.size, UInt64(bytes) <= file.size - start else {
            throw VMwareSourceError.invalid(file: name, reason: "grain table \(index) at sector \(sector) lies past the end of the file")
        }
        let raw = try file.read(at: start, count: bytes)
        return (0..<Int(header.numGTEsPerGT)).map { raw.le32($0 * 4) }
    }

    /// The grain table entry of grain `grain`.
    private func entry(_ grain: UInt64) throws -> UInt32 {
        let perTable = UInt64(header.numGTEsPerGT)
        guard let table = try table(Int(grain / perTable)) else { return 0 }
        return table[Int(grain % perTable)]
    }

    /// Fills `buffer` from `offset` within the extent; grains this file does not hold come
    /// from `missing` (the parent disk, or zeros).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64,
              missing: (UnsafeMutableRawBufferPointer, UInt64) throws -> Void) throws {
        let grainBytes = UInt64(header.grainBytes)
        var done = 0
        var grainData: [UInt8] = []
        let window = header.hasCompressedGrains ? try compressedWindow(offset: offset, count: buffer.count) : nil
        while done < buffer.count {
            let position = offset + UInt64(done)
            let grain = position / grainBytes
            let within = Int(position % grainBytes)
            let count = min(buffer.count - done, Int(grainBytes) - within)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + count])
            let entry = try entry(grain)
            switch entry {
            case 0:
                try missing(target, position)
            case 1:
                target.initializeMemory(as: UInt8.self, repeating: 0)
            default:
                if header.hasCompressedGrains {
                    if count == Int(grainBytes) {
                        // A whole grain: inflate straight into the caller's buffer.
                        try inflateGrain(grain, sector: entry, into: target, window: window)
                    } else {
                        if grainData.isEmpty { grainData = [UInt8](repeating: 0, count: Int(grainBytes)) }
                        try grainData.withUnsafeMutableBytes { try inflateGrain(grain, sector: entry, into: $0, window: window) }
                        grainData.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[within..<within + count])) }
                    }
                } else {
                    try readPlainGrain(grain, sector: entry, within: within, into: target)
                }
            }
            done += count
        }
    }

    /// The compressed bytes of several grains, read from the file at once.
    struct Window {
        var start: UInt64
        var bytes: [UInt8]

        /// The `count` bytes at file offset `offset`, when the window holds them all.
        func slice(at offset: UInt64, count: Int) -> ArraySlice<UInt8>? {
            guard offset >= start, offset - start <= UInt64(bytes.count), count <= bytes.count - Int(offset - start) else { return nil }
            let from = Int(offset - start)
            return bytes[from..<from + count]
        }
    }

    /// For a read of many compressed grains stored close together (as streamOptimized
    /// files store them, in disk order), one read of the file region that holds them all
    /// instead of two small reads per grain. Nil when they are scattered.
    private func compressedWindow(offset: UInt64, count: Int) throws -> Window? {
        guard count > 0 else { return nil }
        let grainBytes = UInt64(header.grainBytes)
        let first = offset / grainBytes
        let last = (offset + UInt64(count) - 1) / grainBytes
        guard last > first else { return nil }
        var lowest = UInt32.max
        var highest: UInt32 = 0
        for grain in first...last {
            let entry = try entry(grain)
            guard entry > 1 else { continue }
            lowest = min(lowest, entry)
            highest = max(highest, entry)
        }
        guard lowest < highest else { return nil }
        let maxCompressed = UInt64(header.grainBytes + header.grainBytes / 8 + 1024 + 12)
        let start = UInt64(lowest) * 512
        guard start < file.size else { return nil }
        let length = min((UInt64(highest) - UInt64(lowest)) * 512 + maxCompressed, file.size - start)
        // Only when compact: no more than the grains would take uncompressed, plus one.
        guard length <= (last - first + 2) * grainBytes else { return nil }
        let bytes = try [UInt8](unsafeUninitializedCapacity: Int(length)) { buffer, initialized in
            try file.read(into: UnsafeMutableRawBufferPointer(buffer), at: start)
            initialized = Int(length)
        }
        return Window(start: start, bytes: bytes)
    }

    private func readPlainGrain(_ grain: UInt64, sector: UInt32, within: Int, into target: UnsafeMutableRawBufferPointer) throws {
        let start = UInt64(sector) * 512
        guard start < file.size else {
            throw VMwareSourceError.invalid(file: name, reason: "grain \(grain) at sector \(sector) lies past the end of the file")
        }
        let from = start + UInt64(within)
        let available = from < file.size ? Int(min(UInt64(target.count), file.size - from)) : 0
        if available > 0 { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: target[0..<available]), at: from) }
        // A last grain cut short by the end of the file reads as zeros past it.
        if available < target.count { UnsafeMutableRawBufferPointer(rebasing: target[available...]).initializeMemory(as: UInt8.self, repeating: 0) }
    }

    /// Decompresses grain `grain` stored at `sector`: a 12-byte grain marker (the grain's
    /// sector on the disk and the compressed size), then a zlib stream.
    private func inflateGrain(_ grain: UInt64, sector: UInt32, into output: UnsafeMutableRawBufferPointer, window: Window?) throws {
        let start = UInt64(sector) * 512
        let grainBytes = header.grainBytes
        // Deflate never grows data by more than a few bytes per 16 KiB block.
        let maxCompressed = grainBytes + grainBytes / 8 + 1024
        guard start + 12 <= file.size else {
            throw VMwareSourceError.invalid(file: name, reason: "compressed grain \(grain) at sector \(sector) lies past the end of the file")
        }
        var dataStart = start
        var compressedSize: Int
        if header.hasMarkers {
            let marker = try window?.slice(at: start, count: 12).map(Array.init) ?? file.read(at: start, count: 12)
            compressedSize = Int(marker.le32(8))
            dataStart = start + 12
            guard compressedSize > 0, compressedSize <= maxCompressed else {
                throw VMwareSourceError.invalid(file: name, reason: "compressed grain \(grain) at sector \(sector) claims \(compressedSize) bytes, more than a grain can compress to")
            }
            guard UInt64(compressedSize) <= file.size - dataStart else {
                throw VMwareSourceError.invalid(file: name, reason: "compressed grain \(grain) at sector \(sector) runs past the end of the file")
            }
        } else {
            // Without markers the zlib stream starts at the sector and ends by itself.
            compressedSize = Int(min(UInt64(maxCompressed), file.size - start))
        }
        let compressed = try window?.slice(at: dataStart, count: compressedSize) ?? [UInt8](unsafeUninitializedCapacity: compressedSize) { buffer, initialized in
            try file.read(into: UnsafeMutableRawBufferPointer(buffer), at: dataStart)
            initialized = compressedSize
        }[...]
        var outputLength = uLongf(grainBytes)
        let status = compressed.withUnsafeBufferPointer { input in
            uncompress(output.baseAddress!.assumingMemoryBound(to: Bytef.self), &outputLength, input.baseAddress, uLong(compressedSize))
        }
        guard status == Z_OK else {
            throw VMwareSourceError.invalid(file: name, reason: "compressed grain \(grain) at sector \(sector) does not inflate (zlib error \(status))")
        }
        if Int(outputLength) < grainBytes {
            UnsafeMutableRawBufferPointer(rebasing: output[Int(outputLength)..<grainBytes]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    /// The ranges of the extent whose grains this file holds (entries above 1).
    func allocatedRanges() throws -> [ByteRange] {
        let grainBytes = UInt64(header.grainBytes)
        let perTable = UInt64(header.numGTEsPerGT)
        var ranges: [ByteRange] = []
        for index in directory.indices where directory[index] != 0 {
            let table = try readTable(index: index, sector: directory[index])
            for (slot, entry) in table.enumerated() where entry > 1 {
                let grain = UInt64(index) * perTable + UInt64(slot)
                guard grain < header.grainCount else { break }
                let start = grain * grainBytes
                let length = min(grainBytes, size - start)
                if let last = ranges.last, last.end == start {
                    ranges[ranges.count - 1].length += length
                } else {
                    ranges.append(ByteRange(offset: start, length: length))
                }
            }
        }
        return ranges
    }
}
