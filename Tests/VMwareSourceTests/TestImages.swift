import FerryCore
import FerryKit
import Foundation
import Testing
import FerryTestSupport

/// Test disks made at run time: raw files with scattered random regions and holes, turned
/// into other formats by qemu-img. Nothing here is committed.
final class Scratch {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-vmware-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A raw image of `size` bytes: random regions of random (often unaligned) lengths at
    /// random places, a region of written zeros, and holes everywhere else.
    @discardableResult
    func rawImage(_ name: String, size: UInt64, regions: Int = 24, seed: UInt64 = 1, extraOffsets: [UInt64] = []) throws -> String {
        let path = self.path(name)
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var random = SplitMix64(seed: seed)
        var offsets = (0..<regions).map { _ in UInt64.random(in: 0..<size - 70_000, using: &random) } + extraOffsets
        offsets.append(size - 4096)
        for offset in offsets {
            let length = min(Int.random(in: 1...70_000, using: &random), Int(size - offset))
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }))
        }
        // Zeros that were written: allocated in the file, but data of zeros.
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: Data(count: 100_000))
        try handle.truncate(atOffset: size)
        return path
    }

    /// Runs qemu-img (or qemu-io) and fails the test with its output when it fails.
    @discardableResult
    func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try HostTool.run("/usr/bin/\(tool)", arguments, in: directory)
    }

    func qemuImg(_ arguments: String...) throws {
        let result = try run("qemu-img", arguments)
        guard result.status == 0 else { throw ToolFailure(command: "qemu-img " + arguments.joined(separator: " "), output: result.output) }
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "\(command) failed: \(output)" }
}

/// Reads every allocated byte of `reader` into nowhere, the way a copy would.
func readAll(_ reader: any BlockReader, limit: UInt64 = .max) throws {
    var budget = limit
    for range in try reader.allocatedRanges() {
        var offset = range.offset
        while offset < range.end, budget > 0 {
            let count = Int(min(1 << 20, range.end - offset, budget))
            _ = try reader.read(at: offset, count: count)
            offset += UInt64(count)
            budget -= UInt64(count)
        }
    }
}
