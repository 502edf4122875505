import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A guest build's scratch folder. mmdebstrap (root mode) mounts /proc and /sys in the new
/// system and bind-mounts the host's /dev nodes into it; a build killed half way leaves those
/// mounts behind, and a recursive delete through them would delete the host's own files.
/// So the folder is only ever removed after whatever is mounted below it is detached.
enum BuildDirectory {
    /// Detaches the mounts below `url` (deepest first) and deletes it; throws if a mount stays.
    static func remove(_ url: URL) throws {
        let root = url.standardizedFileURL.resolvingSymlinksInPath().path
        guard FileManager.default.fileExists(atPath: root) else { return }
        for mountPoint in mounts(below: root).sorted(by: { $0.count > $1.count }) {
            _ = umount2(mountPoint, Int32(MNT_DETACH))
        }
        let left = mounts(below: root)
        guard left.isEmpty else {
            throw SandboxError.commandFailed(command: "umount", status: -1, output: "cannot remove \(root): still mounted: \(left.joined(separator: ", "))")
        }
        try FileManager.default.removeItem(atPath: root)
    }

    /// Recreates `url` empty.
    static func recreate(_ url: URL) throws {
        try remove(url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Mount points at or below `path`, from /proc/self/mountinfo (field 5, octal escapes decoded).
    static func mounts(below path: String) -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = decode(String(fields[4]))
            return point == path || point.hasPrefix(path + "/") ? point : nil
        }
    }

    private static func decode(_ field: String) -> String {
        var bytes: [UInt8] = []
        var characters = Array(field.utf8)[...]
        while let byte = characters.popFirst() {
            if byte == UInt8(ascii: "\\"), characters.count >= 3,
               let value = UInt8(String(decoding: characters.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                characters = characters.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
