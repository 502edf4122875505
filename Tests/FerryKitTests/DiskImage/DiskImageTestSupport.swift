import FerryCore
import FerryKit
import Foundation

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
        _ = FileManager.default.createFile(atPath: path(name), contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path(name)))
        try handle.truncate(atOffset: size)
        try handle.close()
        return path(name)
    }

    /// A raw image with random regions at random places and holes elsewhere.
    func randomImage(_ name: String, size: UInt64, regions: Int = 20, seed: UInt64 = 3) throws -> String {
        let image = try emptyImage(name, size: size)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        var random = SplitMix(seed: seed)
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

/// SplitMix64: deterministic, so that a failing input can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
