import Foundation
@testable import SandboxTarget
#if canImport(Glibc)
import Glibc
#endif

/// A guest disk booted with a plain qemu-system-x86_64 (no sandbox): a qcow2 overlay over the
/// disk, a NoCloud-like seed disk, user networking in 10.0.0.0/24 with the guest at 10.0.0.36
/// and its port 80 forwarded. Killed by `stop` or when the value's folder is removed.
final class DirectQEMUGuest {
    let folder: URL
    let console: String
    let port: Int
    let started: Date
    private(set) var pid: Int32 = 0

    /// QEMU's devices for `hardware`. The boot disk has bootindex=0: SeaBIOS boots the first
    /// disk it enumerates, and on pvscsi that is the seed disk (virtio) unless told otherwise.
    static func deviceArguments(_ hardware: GuestHardware, disk: String, seed: String) -> [String] {
        var arguments = ["-device", "\(hardware.nicModel.qemuDevice),netdev=n0", "-drive", "if=none,id=d0,file=\(disk),format=qcow2"]
        switch hardware.diskBus {
        case .virtio: arguments += ["-device", "virtio-blk-pci,drive=d0,bootindex=0"]
        case .pvscsi: arguments += ["-device", "pvscsi,id=scsi0", "-device", "scsi-hd,drive=d0,bus=scsi0.0,bootindex=0"]
        case .nvme: arguments += ["-device", "nvme,drive=d0,serial=ferry-root,bootindex=0"]
        }
        return arguments + ["-drive", "file=\(seed),if=virtio,format=raw,readonly=on"]
    }

    init(disk: String, hardware: GuestHardware, memoryMiB: Int, instanceID: String, localHostname: String, userData: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-qemu-\(instanceID)", isDirectory: true)
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("seed"), withIntermediateDirectories: true)
        console = folder.appendingPathComponent("console.log").path
        port = try Self.freePort()
        let qemuImg = try HostCommand.require("qemu-img", package: "qemu-utils", purpose: "make an overlay")
        let mke2fs = try HostCommand.require("mke2fs", package: "e2fsprogs", purpose: "make a seed disk")
        let qemu = try HostCommand.require("qemu-system-x86_64", package: "qemu-system-x86", purpose: "boot a guest")
        let overlay = folder.appendingPathComponent("disk.qcow2").path
        try HostCommand.check(qemuImg, ["create", "-q", "-f", "qcow2", "-b", disk, "-F", "raw", overlay])
        try "instance-id: \(instanceID)\nlocal-hostname: \(localHostname)\n".write(to: folder.appendingPathComponent("seed/meta-data"), atomically: true, encoding: .utf8)
        try userData.write(to: folder.appendingPathComponent("seed/user-data"), atomically: true, encoding: .utf8)
        let seed = folder.appendingPathComponent("seed.raw").path
        try HostCommand.check(mke2fs, ["-q", "-F", "-t", "ext2", "-L", "cidata", "-d", folder.appendingPathComponent("seed").path, seed, "2048k"])
        let pidFile = folder.appendingPathComponent("qemu.pid").path
        started = Date()
        try HostCommand.check(qemu, [
            "-name", "ferry-test-\(instanceID)", "-accel", "tcg,tb-size=64", "-m", "\(memoryMiB)", "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "file:\(console)",
            "-netdev", "user,id=n0,net=10.0.0.0/24,host=10.0.0.1,dns=10.0.0.2,dhcpstart=10.0.0.36,hostfwd=tcp:127.0.0.1:\(port)-:80",
        ] + Self.deviceArguments(hardware, disk: overlay, seed: seed) + ["-daemonize", "-pidfile", pidFile])
        pid = Int32((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    deinit { stop() }

    func stop() {
        if pid > 0 { kill(pid, SIGKILL); pid = 0 }
        try? FileManager.default.removeItem(at: folder)
    }

    var consoleText: String {
        (FileManager.default.contents(atPath: console)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Seconds from QEMU's start until the console shows `text`.
    func waitForConsole(_ text: String, timeout: TimeInterval) throws -> TimeInterval {
        while !consoleText.contains(text) {
            if Date().timeIntervalSince(started) > timeout {
                throw HTTP.Failure.timeout("no '\(text)' on the console within \(Int(timeout)) s; last lines:\n\(consoleText.split(separator: "\n").suffix(15).joined(separator: "\n"))")
            }
            usleep(250_000)
        }
        return Date().timeIntervalSince(started)
    }

    /// The RSS of the QEMU process in MiB.
    var residentMiB: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }

    /// An HTTP/1.0 request with the Host header a browser would send to the forwarded port.
    func request(_ method: String, _ path: String, body: String? = nil, contentType: String = "application/x-www-form-urlencoded") throws -> HTTP.Response {
        var text = "\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n"
        if let body { text += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)" } else { text += "\r\n" }
        return try HTTP.exchange(port, text, timeoutSeconds: 60)
    }

    /// Seconds from QEMU's start until `path` answers 200.
    func waitFor200(_ path: String, timeout: TimeInterval) throws -> TimeInterval {
        while true {
            if let response = try? request("GET", path), response.status == 200 { return Date().timeIntervalSince(started) }
            if Date().timeIntervalSince(started) > timeout { throw HTTP.Failure.timeout("no HTTP 200 from \(path) within \(Int(timeout)) s") }
            usleep(250_000)
        }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        guard withLoopbackAddress(port: 0, { bind(fd, $0, $1) }) == 0 else { throw HTTP.Failure.connect(errno) }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
