import FerryCore
import FerryKit
import Foundation
import SandboxTarget
import Testing

/// A disk held in memory, with the ranges it says are allocated.
struct MemoryDisk: BlockReader {
    var bytes: [UInt8]
    var allocated: [ByteRange]
    var size: UInt64 { UInt64(bytes.count) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: "memory")
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[Int(offset)..<Int(offset) + buffer.count]))
        }
    }

    func allocatedRanges() throws -> [ByteRange] { allocated }
}

struct VolumeImportTests {
    let workspace: TestWorkspace
    var adapter: SandboxTargetAdapter { workspace.adapter }
    static let mib = 1 << 20

    init() throws { workspace = try TestWorkspace() }

    static func disk() -> MemoryDisk {
        var bytes = [UInt8](repeating: 0, count: 16 * mib)
        for i in 0..<mib { bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 1) }
        for i in (10 * mib)..<(10 * mib + 4096) { bytes[i] = 0xAB }
        return MemoryDisk(bytes: bytes, allocated: [ByteRange(offset: 0, length: UInt64(mib)), ByteRange(offset: UInt64(10 * mib), length: UInt64(mib))])
    }

    static func contents(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func allocatedBytes(_ path: String) throws -> UInt64 {
        try FileRegionReader(path: path).allocatedRanges().reduce(0) { $0 + $1.length }
    }

    @Test func anImportReadsBackByteForByteAndStaysSparse() async throws {
        let source = Self.disk()
        let volume = try await adapter.importVolume(VolumeImportRequest(name: "disk0", source: source), progress: nil)
        #expect(ResourceID.isValid(volume.id, prefix: "vol"))
        #expect(volume.kind == .volume)
        #expect(volume.sizeBytes == source.size)
        let path = try workspace.cloud.volumePath(volume.id)
        #expect(try Self.contents(path) == source.bytes)
        #expect(try Self.allocatedBytes(path) <= UInt64(3 * Self.mib))
    }

    @Test func anIncrementalImportWritesOnlyTheChangedRangesOverACopyOfItsParent() async throws {
        let first = Self.disk()
        let parent = try await adapter.importVolume(VolumeImportRequest(name: "disk0", source: first), progress: nil)
        var second = first
        for i in (4 * Self.mib)..<(4 * Self.mib + 512) { second.bytes[i] = 0x5A }
        for i in 0..<4096 { second.bytes[i] = 0 }
        let changed = [ByteRange(offset: UInt64(4 * Self.mib), length: 512), ByteRange(offset: 0, length: 4096)]
        let box = ProgressBox()
        let child = try await adapter.importVolume(VolumeImportRequest(name: "disk0", source: second, parent: parent, changedRanges: changed), progress: { box.last = $0 })
        #expect(try Self.contents(workspace.cloud.volumePath(child.id)) == second.bytes)
        #expect(try Self.contents(workspace.cloud.volumePath(parent.id)) == first.bytes)
        #expect(box.last?.bytesTotal == 4608)
    }

    @Test func aSnapshotAndAnImageAreMadeFromAVolume() async throws {
        let volume = try await adapter.importVolume(VolumeImportRequest(name: "disk0", source: Self.disk()), progress: nil)
        let snapshot = try workspace.cloud.createSnapshot(volumeID: volume.id)
        #expect(ResourceID.isValid(snapshot.id, prefix: "snap"))
        #expect(try Self.contents(workspace.cloud.volumePath(snapshot.id)) == Self.disk().bytes)
        let image = try await adapter.registerImage(name: "server", rootVolume: snapshot, additionalVolumes: [], bootMode: .legacyBIOS, tags: [:])
        #expect(ResourceID.isValid(image.id, prefix: "ami"))
        #expect(try await adapter.describeImages().map(\.id) == [image.id])
        await #expect(throws: SandboxError.dependencyViolation(resource: "snapshot \(snapshot.id)", usedBy: ["image \(image.id)"])) {
            try await adapter.deleteImportedVolume(id: snapshot.id)
        }
        try await adapter.deregisterImage(id: image.id)
        try await adapter.deleteImportedVolume(id: snapshot.id)
    }

    @Test func anImageOfAnUnknownVolumeIsRefused() async throws {
        await #expect(throws: SandboxError.notFound(kind: .volume, id: "vol-00000000000000000")) {
            try await adapter.registerImage(name: "x", rootVolume: ImportedVolume(id: "vol-00000000000000000", kind: .volume, sizeBytes: 1), additionalVolumes: [], bootMode: .legacyBIOS, tags: [:])
        }
    }

    @Test func launchingAnUnknownImageOrTypeIsRefusedAndRecordsNothing() async throws {
        await #expect(throws: SandboxError.notFound(kind: .image, id: "ami-00000000000000000")) {
            try await adapter.launchInstance(imageID: "ami-00000000000000000", settings: LaunchSettings(), userData: nil, name: nil)
        }
        await #expect(throws: SandboxError.self) {
            try await adapter.launchInstance(imageID: "ami-00000000000000000", settings: LaunchSettings(instanceType: "x9.huge"), userData: nil, name: nil)
        }
        #expect(try await adapter.describeInstances().isEmpty)
    }
}

final class ProgressBox: @unchecked Sendable {
    var last: TransferProgress?
}
