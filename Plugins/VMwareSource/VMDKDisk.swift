import FerryCore
import Foundation

/// A VMDK opened as a disk: its descriptor, its extents laid end to end, and its parent
/// when it is a snapshot (a delta disk). Reads unallocated grains from the parent.
///
/// Reads every hosted subformat: monolithicFlat, twoGbMaxExtentFlat, monolithicSparse,
/// twoGbMaxExtentSparse, streamOptimized, and ESX descriptors with VMFS (flat) extents.
public final class VMDKDisk: BlockReader, @unchecked Sendable {
    // @unchecked: immutable after init; the extents are Sendable or guard their own state.
    public let name: String
    public let size: UInt64
    public let descriptor: VMDKDescriptor
    public let parent: VMDKDisk?
    private let extents: [Extent]

    /// How many parents a snapshot chain may have, so that a loop ends.
    static let maxChainDepth = 32

    enum ExtentData {
        case flat(any BlockReader)
        case zero
        case sparse(SparseExtent)
    }

    struct Extent {
        var start: UInt64
        var length: UInt64
        var data: ExtentData
        var end: UInt64 { start + length }
    }

    /// Finds the files a descriptor names: beside the .vmdk on disk, or members of an .ova.
    public struct FileResolver: Sendable {
        /// Opens the file `name` refers to; nil when there is no such file.
        public var open: @Sendable (_ reference: String) throws -> (reader: any BlockReader, name: String)?

        public init(open: @escaping @Sendable (String) throws -> (reader: any BlockReader, name: String)?) {
            self.open = open
        }

        /// Files in `directory`, relative references resolved against it.
        public static func directory(_ directory: URL) -> FileResolver {
            FileResolver { reference in
                let path = reference.hasPrefix("/") ? reference : directory.appendingPathComponent(reference).path
                guard FileManager.default.fileExists(atPath: path) else { return nil }
                return (try FileRegionReader(path: path), path)
            }
        }
    }

    /// Opens the VMDK at `path` (a descriptor or a sparse file), with its extents and parents.
    public convenience init(path: String) throws {
        let file = try FileRegionReader(path: path)
        try self.init(file: file, name: path, resolver: .directory(URL(fileURLWithPath: path).deletingLastPathComponent()))
    }

    /// Opens the VMDK whose bytes `file` holds; `resolver` finds the files it names.
    public init(file: any BlockReader, name: String, resolver: FileResolver, depth: Int = 0) throws {
        self.name = name
        guard file.size >= 4 else { throw VMwareSourceError.invalid(file: name, reason: "file is truncated (\(file.size) bytes): not a VMDK") }
        let magic = try file.read(at: 0, count: 4)
        if magic == Array("COWD".utf8) {
            throw VMwareSourceError.unsupported(file: name, reason: "ESX sparse (COWD, VMFSSPARSE) extents are not supported; convert with vmkfstools first")
        }
        if magic.le32(0) == SparseExtentHeader.magic {
            // A sparse file: its own data is the one extent; the embedded descriptor, when
            // there is one, says what kind of disk it is and who its parent is.
            let sparse = try SparseExtent(file: file, name: name)
            let header = sparse.header
            if header.descriptorOffset > 0, header.descriptorSize > 0 {
                let start = header.descriptorOffset.multipliedReportingOverflow(by: 512)
                let length = min(header.descriptorSize, UInt64(VMDKDescriptor.maxSize / 512)) * 512
                guard !start.overflow, start.partialValue < file.size else {
                    throw VMwareSourceError.invalid(file: name, reason: "embedded descriptor at sector \(header.descriptorOffset) lies past the end of the file")
                }
                let bytes = try file.read(at: start.partialValue, count: Int(min(length, file.size - start.partialValue)))
                descriptor = try VMDKDescriptor.parse(try VMDKDescriptor.text(bytes, file: name), file: name)
            } else {
                descriptor = VMDKDescriptor(createType: "monolithicSparse", extents: [
                    VMDKExtentLine(access: .readWrite, sectors: header.capacity, kind: .sparse, fileName: nil, offset: 0),
                ], ddb: [:])
            }
            extents = [Extent(start: 0, length: sparse.size, data: .sparse(sparse))]
            size = sparse.size
        } else {
            guard file.size <= UInt64(VMDKDescriptor.maxSize) else {
                throw VMwareSourceError.invalid(file: name, reason: "not a VMDK: no KDMV magic, and too large (\(file.size) bytes) for a text descriptor")
            }
            let text = try VMDKDescriptor.text(try file.read(at: 0, count: Int(file.size)), file: name)
            descriptor = try VMDKDescriptor.parse(text, file: name)
            // At most DiskSize.maximum: no extent's length or start below can overflow.
            size = try descriptor.virtualSize(file: name)
            var start: UInt64 = 0
            var opened: [Extent] = []
            for line in descriptor.extents {
                let length = line.sectors * 512
                opened.append(Extent(start: start, length: length, data: try Self.openExtent(line, of: name, resolver: resolver)))
                start += length
            }
            extents = opened
        }

        if let parentCID = descriptor.parentCID {
            guard depth < Self.maxChainDepth else {
                throw VMwareSourceError.invalid(file: name, reason: "snapshot chain is longer than \(Self.maxChainDepth) disks (a loop?)")
            }
            guard let hint = descriptor.parentFileNameHint, !hint.isEmpty else {
                throw VMwareSourceError.invalid(file: name, reason: "delta disk (parentCID \(Self.hex8(parentCID))) names no parentFileNameHint")
            }
            guard let parentFile = try resolver.open(hint) else {
                throw VMwareSourceError.missing(file: name, reference: hint, role: "parent disk (parentFileNameHint) of this snapshot")
            }
            let parent = try VMDKDisk(file: parentFile.reader, name: parentFile.name, resolver: resolver, depth: depth + 1)
            if let parentOwnCID = parent.descriptor.cid, parentOwnCID != parentCID {
                throw VMwareSourceError.invalid(file: name, reason: "parentCID \(Self.hex8(parentCID)) does not match the CID \(Self.hex8(parentOwnCID)) of parent '\(hint)' (the parent changed after the snapshot)")
            }
            self.parent = parent
        } else {
            parent = nil
        }
    }

    private static func openExtent(_ line: VMDKExtentLine, of name: String, resolver: FileResolver) throws -> ExtentData {
        let length = line.sectors.multipliedReportingOverflow(by: 512)
        guard !length.overflow else { throw VMwareSourceError.invalid(file: name, reason: "extent of \(line.sectors) sectors overflows") }
        switch line.kind {
        case .zero:
            return .zero
        case .flat, .vmfs:
            guard let fileName = line.fileName, let file = try resolver.open(fileName) else {
                throw VMwareSourceError.missing(file: name, reference: line.fileName ?? "", role: "extent file")
            }
            let offset = line.offset.multipliedReportingOverflow(by: 512)
            let (end, overflow) = offset.partialValue.addingReportingOverflow(length.partialValue)
            guard !offset.overflow, !overflow, end <= file.reader.size else {
                throw VMwareSourceError.invalid(file: file.name, reason: "flat extent needs \(length.partialValue) bytes at offset \(offset.partialValue), but the file has \(file.reader.size)")
            }
            return .flat(try SliceReader(file.reader, offset: offset.partialValue, size: length.partialValue, name: file.name))
        case .sparse:
            guard let fileName = line.fileName, let file = try resolver.open(fileName) else {
                throw VMwareSourceError.missing(file: name, reference: line.fileName ?? "", role: "extent file")
            }
            let sparse = try SparseExtent(file: file.reader, name: file.name)
            guard sparse.size >= length.partialValue else {
                throw VMwareSourceError.invalid(file: file.name, reason: "sparse extent holds \(sparse.size) bytes, less than the \(length.partialValue) its descriptor says")
            }
            return .sparse(sparse)
        case .vmfsSparse, .vmfsRDM, .vmfsRaw, .seSparse:
            throw VMwareSourceError.unsupported(file: name, reason: "\(line.kind.rawValue) extents are not supported (FLAT, VMFS, SPARSE and ZERO are)")
        }
    }

    /// A CID as descriptors write it: 8 hexadecimal digits.
    static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// The subformat, from the descriptor's createType.
    public var createType: String { descriptor.createType }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: name)
        var done = 0
        for extent in extents where extent.end > offset + UInt64(done) && extent.start < offset + UInt64(buffer.count) {
            let position = offset + UInt64(done)
            let count = Int(min(UInt64(buffer.count - done), extent.end - position))
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + count])
            switch extent.data {
            case .zero:
                target.initializeMemory(as: UInt8.self, repeating: 0)
            case .flat(let reader):
                try reader.read(into: target, at: position - extent.start)
            case .sparse(let sparse):
                try sparse.read(into: target, at: position - extent.start) { missing, within in
                    try self.readParent(into: missing, at: extent.start + within)
                }
            }
            done += count
            if done == buffer.count { break }
        }
    }

    /// What lies under an unallocated grain: the parent's data, or zeros past the parent's
    /// end (a child may be larger than its parent) or without a parent.
    private func readParent(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        guard let parent, offset < parent.size else {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            return
        }
        let fromParent = Int(min(UInt64(buffer.count), parent.size - offset))
        try parent.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<fromParent]), at: offset)
        if fromParent < buffer.count {
            UnsafeMutableRawBufferPointer(rebasing: buffer[fromParent...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    public func allocatedRanges() throws -> [ByteRange] {
        var ranges: [ByteRange] = []
        for extent in extents {
            switch extent.data {
            case .zero:
                break
            case .flat(let reader):
                ranges += try reader.allocatedRanges().map { ByteRange(offset: extent.start + $0.offset, length: $0.length) }
            case .sparse(let sparse):
                ranges += try sparse.allocatedRanges().compactMap { range in
                    let length = min(range.end, extent.length) - min(range.offset, extent.length)
                    return length == 0 ? nil : ByteRange(offset: extent.start + range.offset, length: length)
                }
            }
        }
        if let parent {
            // A superset is allowed: the parent's data, where the child has its own, reads as
            // the child's.
            ranges += try parent.allocatedRanges().compactMap { range in
                range.offset < size ? ByteRange(offset: range.offset, length: min(range.end, size) - range.offset) : nil
            }
        }
        return ByteRange.coalesce(ranges)
    }
}
