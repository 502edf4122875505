import FerryCore
import FerryKit
import Foundation
import FerryTestSupport

/// The tests of FerryKit's DiskImage folder (partition tables, file systems, image writers).
enum DiskImageTests {}

/// A folder for one test's disk images, made at run time and removed afterwards.
final class DiskScratch {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-diskimage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Runs a tool; returns its exit status and output.
    @discardableResult
    func run(_ tool: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// An empty sparse image of `size` bytes.
    func emptyImage(_ name: String, size: UInt64) throws -> String {
        try SparseImage.write(path(name), size: size)
        return path(name)
    }

    /// A raw image with random regions at random places and holes elsewhere.
    func randomImage(_ name: String, size: UInt64, regions: Int = 20, seed: UInt64 = 3) throws -> String {
        let image = try emptyImage(name, size: size)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        var random = SplitMix64(seed: seed)
        for _ in 0..<regions {
            let offset = UInt64.random(in: 0..<size - 100_000, using: &random)
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data((0..<Int.random(in: 1...100_000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }))
        }
        try handle.seek(toOffset: size - 1)
        try handle.write(contentsOf: Data([0x42]))
        return image
    }
}
