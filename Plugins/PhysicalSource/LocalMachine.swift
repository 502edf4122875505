import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The facts of the machine Ferry runs on, read from Linux's own files: /etc/os-release,
/// /proc, /sys/block and /sys/class/net. `root` lets tests point it at a copy of those trees.
public struct LocalMachine: Sendable {
    public var root: URL
    /// Whether loop, ram, zram and read-only devices count as disks.
    public var includeAllDevices: Bool

    public init(root: URL = URL(fileURLWithPath: "/"), includeAllDevices: Bool = false) {
        self.root = root
        self.includeAllDevices = includeAllDevices
    }

    public func facts() -> MachineFacts {
        MachineFacts(
            hostname: hostname(),
            operatingSystem: operatingSystem(),
            cpuCount: cpuCount(),
            memoryBytes: memoryBytes(),
            networkInterfaces: networkInterfaces(),
            disks: disks(),
            bootMode: FileManager.default.fileExists(atPath: path("sys/firmware/efi")) ? .uefi : .legacyBIOS
        )
    }

    private var isRealRoot: Bool { root.standardizedFileURL.path == "/" }

    private func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    private func text(_ relative: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path(relative)), data.count <= 1 << 20 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    private func line(_ relative: String) -> String? {
        text(relative)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func hostname() -> String {
        if let name = line("proc/sys/kernel/hostname") ?? line("etc/hostname"), !name.isEmpty { return name }
        return ProcessInfo.processInfo.hostName
    }

    /// /etc/os-release (or /usr/lib/os-release): `KEY=value` lines, values maybe quoted.
    func operatingSystem() -> OperatingSystem {
        guard let release = text("etc/os-release") ?? text("usr/lib/os-release") else { return OperatingSystem(family: "linux") }
        let values = Self.osRelease(release)
        return OperatingSystem(
            family: "linux",
            name: values["PRETTY_NAME"] ?? values["NAME"] ?? "Linux",
            version: values["VERSION_ID"] ?? ""
        )
    }

    static func osRelease(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            values[String(line[..<equals])] = value
        }
        return values
    }

    /// Logical CPUs: `processor` lines of /proc/cpuinfo.
    func cpuCount() -> Int {
        let count = text("proc/cpuinfo")?.split(separator: "\n").filter { $0.hasPrefix("processor") }.count ?? 0
        return count > 0 ? count : ProcessInfo.processInfo.processorCount
    }

    /// The memory installed: the online blocks of /sys/devices/system/memory times their size
    /// (a 256 MiB machine has 256 MiB there, where MemTotal shows what the kernel left over),
    /// else MemTotal of /proc/meminfo.
    func memoryBytes() -> UInt64 {
        if let blockSize = line("sys/devices/system/memory/block_size_bytes").flatMap({ UInt64($0, radix: 16) }), blockSize > 0,
           let blocks = try? FileManager.default.contentsOfDirectory(atPath: path("sys/devices/system/memory")) {
            let online = blocks.filter { $0.hasPrefix("memory") && line("sys/devices/system/memory/\($0)/online") == "1" }.count
            if online > 0, let total = DiskSize.bytes(UInt64(online), unit: blockSize) { return total }
        }
        for line in (text("proc/meminfo") ?? "").split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kib = UInt64(fields[1]) { return kib * 1024 }
        }
        return ProcessInfo.processInfo.physicalMemory
    }

    /// /sys/class/net: every interface but loopback, its MAC, and its addresses.
    func networkInterfaces() -> [NetworkInterface] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path("sys/class/net"))) ?? []
        let addresses = isRealRoot ? Self.interfaceAddresses() : [:]
        return names.sorted().compactMap { name in
            guard name != "lo" else { return nil }
            let mac = line("sys/class/net/\(name)/address")
            return NetworkInterface(name: name, macAddress: mac == "00:00:00:00:00:00" ? nil : mac, addresses: addresses[name] ?? [])
        }
    }

    /// /sys/block: name, size (in 512-byte sectors there), model; loop, ram and read-only
    /// devices are skipped unless `includeAllDevices`.
    func disks() -> [DiskFacts] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path("sys/block"))) ?? []
        var disks: [DiskFacts] = []
        for name in names.sorted() {
            let virtualOnly = ["loop", "ram", "zram", "nbd", "dm-", "md", "sr"].contains { name.hasPrefix($0) }
            let readOnly = line("sys/block/\(name)/ro") == "1"
            if !includeAllDevices, virtualOnly || readOnly { continue }
            let sectors = UInt64(line("sys/block/\(name)/size") ?? "") ?? 0
            if !includeAllDevices, sectors == 0 { continue }
            // A size no disk has is a misread file: the device is left out rather than its
            // bytes overflowing.
            guard let sizeBytes = DiskSize.bytes(sectors, unit: 512) else { continue }
            let model = [line("sys/block/\(name)/device/vendor"), line("sys/block/\(name)/device/model")]
                .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            disks.append(DiskFacts(name: "/dev/\(name)", sizeBytes: sizeBytes, locator: "/dev/\(name)", model: model.isEmpty ? nil : model))
        }
        if let first = disks.indices.first { disks[first].isBoot = true }
        return disks
    }

    /// Addresses of every interface, from getifaddrs.
    static func interfaceAddresses() -> [String: [String]] {
        var result: [String: [String]] = [:]
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [:] }
        defer { freeifaddrs(list) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let name = String(cString: entry.pointee.ifa_name)
            result[name, default: []].append(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return result
    }
}
