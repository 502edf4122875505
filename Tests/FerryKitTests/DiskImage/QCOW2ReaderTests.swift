import FerryCore
import FerryKit
import Foundation
import Testing

/// qemu-img and qemu-io write the images; qemu-img's raw conversion is the oracle.
@Suite("qcow2 reader")
struct QCOW2ReaderTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-qcow2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    @discardableResult
    func tool(_ name: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/\(name)")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// 8 MiB with random data at 0, 3 MiB + 5 and 7 MiB, holes elsewhere.
    func makeBase() throws -> String {
        let base = path("base.raw")
        FileManager.default.createFile(atPath: base, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: base))
        try handle.truncate(atOffset: 8 << 20)
        var generator = SystemRandomNumberGenerator()
        for offset: UInt64 in [0, (3 << 20) + 5, 7 << 20] {
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data((0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        }
        try handle.close()
        return base
    }

    func contents(_ reader: any BlockReader) throws -> Data { Data(try reader.read(at: 0, count: Int(reader.size))) }

    @Test func aStandaloneImageReadsLikeItsRawConversion() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = try makeBase()
        #expect(try tool("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", base, path("image.qcow2")]) == 0)
        let reader = try QCOW2Reader(path: path("image.qcow2"))
        #expect(reader.size == 8 << 20)
        #expect(try contents(reader) == (try Data(contentsOf: URL(fileURLWithPath: base))))
        // Holes stay holes: the middle of the disk is not allocated.
        let allocated = try reader.allocatedRanges().reduce(0) { $0 + $1.length }
        #expect(allocated < 4 << 20)
    }

    @Test func anOverlayReadsItsOwnClustersOverItsBackingFile() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = try makeBase()
        let overlay = path("overlay.qcow2")
        #expect(try tool("qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", overlay]) == 0)
        #expect(try tool("qemu-io", ["-f", "qcow2", "-c", "write -P 0xab 1M 100k", "-c", "write -z 7M 64k", "-c", "write -P 0x11 3M 4k", overlay]) == 0)
        #expect(QCOW2Reader.isQCOW2(path: overlay))
        #expect(!QCOW2Reader.isQCOW2(path: base))
        #expect(try tool("qemu-img", ["convert", "-O", "raw", overlay, path("expected.raw")]) == 0)
        let reader = try QCOW2Reader(path: overlay)
        #expect(try contents(reader) == (try Data(contentsOf: URL(fileURLWithPath: path("expected.raw")))))
    }

    @Test func notAQcow2OrAMissingBackingFileIsAClearError() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = try makeBase()
        #expect(throws: BlockReaderError.corrupt(disk: base, reason: "not a qcow2 image (wrong magic)")) { try QCOW2Reader(path: base) }
        let overlay = path("orphan.qcow2")
        #expect(try tool("qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", overlay]) == 0)
        try FileManager.default.removeItem(atPath: base)
        let error = #expect(throws: BlockReaderError.self) { try QCOW2Reader(path: overlay) }
        #expect(error?.description.contains("backing file") == true)
    }
}
