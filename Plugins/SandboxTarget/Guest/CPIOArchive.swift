import Foundation

/// A cpio archive in the "newc" format, the format the Linux kernel unpacks as an initramfs.
/// Written in memory so that device nodes need no privileges.
struct CPIOArchive {
    private(set) var data = Data()
    private var inode: UInt32 = 1

    mutating func directory(_ name: String) { append(name, mode: 0o040755, body: Data()) }

    mutating func file(_ name: String, contents: Data, executable: Bool = false) {
        append(name, mode: executable ? 0o100755 : 0o100644, body: contents)
    }

    mutating func characterDevice(_ name: String, major: UInt32, minor: UInt32) {
        append(name, mode: 0o020600, body: Data(), rdev: (major, minor))
    }

    /// The archive with its trailer.
    mutating func finish() -> Data {
        append("TRAILER!!!", mode: 0, body: Data(), countsInode: false)
        return data
    }

    private mutating func append(_ name: String, mode: UInt32, body: Data, rdev: (UInt32, UInt32) = (0, 0), countsInode: Bool = true) {
        let nameBytes = Data(name.utf8) + [0]
        let fields: [UInt32] = [
            countsInode ? inode : 0, mode, 0, 0, mode & 0o040000 != 0 ? 2 : 1, 0,
            UInt32(body.count), 0, 0, rdev.0, rdev.1, UInt32(nameBytes.count), 0,
        ]
        if countsInode { inode += 1 }
        var header = "070701"
        for field in fields { header += String(format: "%08X", field) }
        data.append(Data(header.utf8))
        data.append(nameBytes)
        pad()
        data.append(body)
        pad()
    }

    private mutating func pad() {
        while data.count % 4 != 0 { data.append(0) }
    }
}
