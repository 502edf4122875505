import Foundation

/// An initramfs made of this machine's static busybox, kernel modules of the host kernel (plain
/// .ko files that busybox's insmod loads in the order of `lib/modules/order`), an /init script,
/// and optionally other host programs with the shared libraries they link (at the same paths).
/// The sandbox's base image boots through one; the converter appliance is one.
struct BusyboxInitramfs {
    var busybox: String
    /// Module files, dependencies first (see `moduleFiles`).
    var modules: [String]
    var initScript: String
    /// Scripts to add, by path in the archive (e.g. `bin/ferry-convert`), executable.
    var scripts: [String: String] = [:]
    /// Dynamically linked host programs (e.g. /sbin/blkid), copied with their libraries.
    var hostPrograms: [String] = []

    /// The module files that load `names` in kernel `kernelVersion`, dependencies first, each
    /// once, as `modprobe --show-depends` orders them. A name in `optional` may be missing
    /// (an accelerator, a file system the converter can do without); the others must exist.
    static func moduleFiles(_ names: [String], optional: Set<String>, kernelVersion: String, modprobe: String) throws -> [String] {
        var files: [String] = []
        for module in names {
            let result = try HostCommand.run(modprobe, ["-S", kernelVersion, "--show-depends", module])
            guard result.status == 0 else {
                if optional.contains(module) { continue }
                throw SandboxError.baseImage("kernel \(kernelVersion) has no module \(module): \(result.output)")
            }
            for line in result.output.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard words.count >= 2, words[0] == "insmod" else { continue } // "builtin …" needs nothing
                let file = String(words[1])
                if !files.contains(file) { files.append(file) }
            }
        }
        return files
    }

    func archive() throws -> Data {
        var archive = CPIOArchive()
        var folders: Set<String> = []
        func folder(_ path: String) {
            var partial = ""
            for part in path.split(separator: "/") {
                partial += partial.isEmpty ? String(part) : "/" + part
                if folders.insert(partial).inserted { archive.directory(partial) }
            }
        }
        for name in ["bin", "sbin", "dev", "proc", "sys", "run", "newroot", "lib/modules"] { folder(name) }
        archive.characterDevice("dev/console", major: 5, minor: 1)
        archive.file("init", contents: Data(initScript.utf8), executable: true)
        archive.file("bin/busybox", contents: try Data(contentsOf: URL(fileURLWithPath: busybox)), executable: true)
        for (path, text) in scripts.sorted(by: { $0.key < $1.key }) {
            folder((path as NSString).deletingLastPathComponent)
            archive.file(path, contents: Data(text.utf8), executable: true)
        }
        var order: [String] = []
        for path in modules {
            guard path.hasSuffix(".ko") else {
                throw SandboxError.baseImage("\(path) is compressed; busybox's insmod loads plain .ko files only")
            }
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            archive.file("lib/modules/\(name).ko", contents: try Data(contentsOf: URL(fileURLWithPath: path)))
            order.append(name)
        }
        archive.file("lib/modules/order", contents: Data((order.joined(separator: "\n") + "\n").utf8))
        var copied: Set<String> = []
        for program in hostPrograms {
            for file in [program] + (try Self.sharedLibraries(of: program)) where copied.insert(file).inserted {
                let relative = String(file.drop { $0 == "/" })
                folder((relative as NSString).deletingLastPathComponent)
                // Contents, not the link: the library's symlink chain need not exist in the archive.
                let resolved = URL(fileURLWithPath: file).resolvingSymlinksInPath()
                archive.file(relative, contents: try Data(contentsOf: resolved), executable: true)
            }
        }
        return archive.finish()
    }

    /// The libraries (and program interpreter) `ldd` says `program` loads, by the paths it names.
    static func sharedLibraries(of program: String) throws -> [String] {
        let ldd = try HostCommand.require("ldd", package: "libc-bin", purpose: "find the libraries of \(program)")
        let output = try HostCommand.check(ldd, [program])
        return output.split(separator: "\n").compactMap { line -> String? in
            // "libblkid.so.1 => /lib/x86_64-linux-gnu/libblkid.so.1 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count, words[arrow + 1].hasPrefix("/") { return String(words[arrow + 1]) }
            if let first = words.first, first.hasPrefix("/") { return String(first) }
            return nil
        }
    }
}
