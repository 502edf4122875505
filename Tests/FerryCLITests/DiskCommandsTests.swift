import Foundation
import Testing

/// `ferry disk inspect` and `ferry disk export` on images whose headers claim sizes and
/// offsets near 2^64: each ends with status 1 and a one-line error naming the file, where
/// it used to die of a trap (SIGILL, status 4 here).
@Suite("ferry disk on damaged images")
struct DiskCommandsTests {
    /// A qcow2 header (version 3, 64 KiB clusters) in a file of three clusters.
    static func qcow2(size: UInt64, l1Size: UInt32, l1Offset: UInt64) -> Data {
        var bytes = [UInt8](repeating: 0, count: 3 << 16)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            let width = MemoryLayout<T>.size
            for index in 0..<width { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * (width - 1 - index))) }
        }
        bytes.replaceSubrange(0..<4, with: [0x51, 0x46, 0x49, 0xFB])
        put(UInt32(3), at: 4)
        put(UInt32(16), at: 20)
        put(size, at: 24)
        put(l1Size, at: 36)
        put(l1Offset, at: 40)
        put(UInt32(4), at: 96)
        put(UInt32(104), at: 100)
        return Data(bytes)
    }

    static func zeroDescriptor(sectors: UInt64) -> Data {
        Data("# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW \(sectors) ZERO\n".utf8)
    }

    static let images: [(name: String, contents: Data, error: String)] = [
        ("size-max.qcow2", qcow2(size: .max, l1Size: 1, l1Offset: 1 << 16), "qcow2 virtual size (header byte 24) of 18446744073709551615 bytes"),
        ("l1-near-2p64.qcow2", qcow2(size: 1 << 20, l1Size: 1, l1Offset: 0xFFFF_FFFF_FFFF_0000), "qcow2 L1 table (1 entries at byte 18446744073709486080"),
        ("l1-2p63.qcow2", qcow2(size: 1 << 20, l1Size: 1, l1Offset: 1 << 63), "qcow2 L1 table (1 entries at byte 9223372036854775808"),
        ("zero-2p63.vmdk", zeroDescriptor(sectors: 1 << 54), "extents add up to more than"),
        ("zero-near-2p64.vmdk", zeroDescriptor(sectors: (1 << 55) - 1), "extents add up to more than"),
    ]

    @Test(arguments: ["inspect", "raw", "qcow2", "vmdk"])
    func damagedImagesEndInAOneLineErrorNotASignal(command: String) throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for image in Self.images {
            let path = directory.appendingPathComponent(image.name).path
            try image.contents.write(to: URL(fileURLWithPath: path))
            let arguments = command == "inspect"
                ? ["disk", "inspect", path]
                : ["disk", "export", path, "--format", command, "-o", directory.appendingPathComponent("out.img").path]
            let result = try FerryProcess.run(arguments)
            #expect(result.status == 1, "\(image.name), \(command): status \(result.status), \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: \(path): "), "\(image.name), \(command): \(result.stderr)")
            #expect(result.stderr.contains(image.error), "\(image.name), \(command): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(image.name), \(command): \(result.stderr)")
        }
    }
}
