import Foundation

/// The disk layout every sandbox guest image has, written without mounting anything: an MBR
/// with one bootable Linux partition from 1 MiB to the end, an ext4 file system labelled
/// `root` made by `mke2fs -d` from a folder, and GRUB's BIOS boot code (boot.img in the MBR's
/// first 440 bytes, core.img in the gap before the partition, as grub-install puts them).
enum MBRBootDisk {
    static let partitionOffset: UInt64 = 1 << 20
    static let rootLabel = "root"

    /// Creates `path` as a sparse file of `size` bytes whose partition holds `rootDirectory`.
    static func writeFileSystem(mke2fs: String, rootDirectory: String, diskAt path: String, size: UInt64) throws {
        try? FileManager.default.removeItem(atPath: path)
        let disk = try SparseFile(path: path, create: true)
        try disk.setSize(size)
        let partitionKiB = (size - partitionOffset) / 1024
        try HostCommand.check(mke2fs, [
            "-q", "-F", "-t", "ext4", "-b", "4096", "-L", rootLabel, "-E", "offset=\(partitionOffset)",
            "-d", rootDirectory, path, "\(partitionKiB)k",
        ])
    }

    /// Writes the MBR (boot code of `bootImage`, the partition table) and `coreImage` from sector 1.
    static func writeBootloader(diskAt path: String, size: UInt64, bootImage: String, coreImage: Data) throws {
        guard coreImage.count <= Int(partitionOffset) - 512 else {
            throw SandboxError.baseImage("GRUB's core image (\(coreImage.count) bytes) does not fit before the partition")
        }
        let bootSector = try Data(contentsOf: URL(fileURLWithPath: bootImage))
        var mbr = Data(bootSector.prefix(440))
        mbr.append(masterBootRecordTail(diskSize: size))
        let disk = try SparseFile(path: path, create: false)
        try mbr.withUnsafeBytes { try disk.write($0, at: 0) }
        try coreImage.withUnsafeBytes { try disk.write($0, at: 512) }
        disk.sync()
    }

    /// Bytes 440–511 of the MBR: disk signature, one bootable Linux partition from 1 MiB to the end, 55 AA.
    static func masterBootRecordTail(diskSize: UInt64) -> Data {
        var tail = Data([0x46, 0x45, 0x52, 0x59, 0, 0]) // disk signature "FERY", then 2 reserved bytes
        let firstSector = UInt32(partitionOffset / 512)
        let sectors = UInt32((diskSize - partitionOffset) / 512)
        var entry = Data([0x80, 0xfe, 0xff, 0xff, 0x83, 0xfe, 0xff, 0xff])
        withUnsafeBytes(of: firstSector.littleEndian) { entry.append(contentsOf: $0) }
        withUnsafeBytes(of: sectors.littleEndian) { entry.append(contentsOf: $0) }
        tail.append(entry)
        tail.append(Data(repeating: 0, count: 48))
        tail.append(contentsOf: [0x55, 0xaa])
        return tail
    }
}
