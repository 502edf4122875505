import FerryCore
import Foundation

/// A .vmx file: a VMware virtual machine's configuration, `key = "value"` lines.
///
/// Parsed by hand: no Swift package reads .vmx. Keys are case-insensitive and
/// dot-namespaced (`ethernet0.address`, `scsi0:1.fileName`); values are quoted and escape
/// bytes as `|XX` in hexadecimal (`|22` is a double quote); `X.present = "FALSE"` hides
/// device X.
public struct VMXFile: Hashable, Sendable {
    public let path: String
    /// Keys lowercased.
    public let values: [String: String]

    /// The largest .vmx read; real ones are a few KiB.
    static let maxSize = 1 << 20

    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw VMwareSourceError.missing(file: path, reference: path, role: "VM configuration")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= Self.maxSize else {
            throw VMwareSourceError.invalid(file: path, reason: "\(size) bytes is too large for a .vmx")
        }
        try self.init(text: String(decoding: try Data(contentsOf: url), as: UTF8.self), path: path)
    }

    public init(text: String, path: String) throws {
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(".encoding") && !line.contains("=") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw VMwareSourceError.invalid(file: path, reason: "line \(number + 1) is not 'key = \"value\"': \(line.prefix(60))")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            guard !key.isEmpty else { throw VMwareSourceError.invalid(file: path, reason: "line \(number + 1) has no key") }
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else {
                    throw VMwareSourceError.invalid(file: path, reason: "line \(number + 1) has an unterminated quoted value")
                }
                value = String(value.dropFirst().dropLast())
            }
            values[key] = Self.unescape(value)
        }
        self.path = path
        self.values = values
    }

    public subscript(_ key: String) -> String? { values[key.lowercased()] }

    /// Whether device `prefix` ("ethernet0", "scsi0:1") is present: absent `present` keys
    /// count as present for disks, as VMware does.
    func isPresent(_ prefix: String, defaultValue: Bool = true) -> Bool {
        guard let value = self["\(prefix).present"] else { return defaultValue }
        return value.lowercased() == "true"
    }

    /// `|22` → `"`, `|7C` → `|`: two hexadecimal digits after a bar stand for one byte.
    static func unescape(_ value: String) -> String {
        guard value.contains("|") else { return value }
        var bytes: [UInt8] = []
        let utf8 = Array(value.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "|"), index + 2 < utf8.count,
               let byte = UInt8(String(decoding: utf8[index + 1...index + 2], as: UTF8.self), radix: 16) {
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One virtual disk attachment: `scsi0:1.fileName = "disk2.vmdk"`.
    public struct DiskEntry: Hashable, Sendable {
        /// "scsi0:1".
        public var device: String
        public var fileName: String
        /// The file name resolved against the .vmx's folder.
        public var path: String
    }

    /// The virtual disks attached and present, in bus order (scsi, sata, nvme, ide), then
    /// controller and unit order. CD-ROM images and other non-disk files are left out.
    public var disks: [DiskEntry] {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        let buses = ["scsi", "sata", "nvme", "ide"]
        var found: [(bus: Int, controller: Int, unit: Int, entry: DiskEntry)] = []
        for (key, value) in values where key.hasSuffix(".filename") {
            let device = String(key.dropLast(".filename".count))
            guard let bus = buses.firstIndex(where: { device.hasPrefix($0) }) else { continue }
            let numbers = device.dropFirst(buses[bus].count).split(separator: ":")
            guard numbers.count == 2, let controller = Int(numbers[0]), let unit = Int(numbers[1]) else { continue }
            let deviceType = self["\(device).deviceType"]?.lowercased() ?? "disk"
            guard !deviceType.contains("cdrom"), value.lowercased().hasSuffix(".vmdk") else { continue }
            guard isPresent("\(buses[bus])\(controller)"), isPresent(device) else { continue }
            let resolved = value.hasPrefix("/") ? value : directory.appendingPathComponent(value).path
            found.append((bus, controller, unit, DiskEntry(device: device, fileName: value, path: resolved)))
        }
        return found.sorted { ($0.bus, $0.controller, $0.unit) < ($1.bus, $1.controller, $1.unit) }.map(\.entry)
    }

    /// The network adapters present: `ethernetN.*`.
    public var networkInterfaces: [NetworkInterface] {
        var numbers: Set<Int> = []
        for key in values.keys where key.hasPrefix("ethernet") {
            let digits = key.dropFirst("ethernet".count).prefix { $0.isNumber }
            if let number = Int(digits), key.dropFirst("ethernet".count + digits.count).hasPrefix(".") { numbers.insert(number) }
        }
        return numbers.sorted().compactMap { number in
            let prefix = "ethernet\(number)"
            guard isPresent(prefix, defaultValue: false) else { return nil }
            let addressType = self["\(prefix).addressType"]?.lowercased() ?? ""
            let mac = (addressType == "static" ? self["\(prefix).address"] : nil)
                ?? self["\(prefix).generatedAddress"] ?? self["\(prefix).address"]
            let network = self["\(prefix).networkName"] ?? self["\(prefix).vnet"] ?? self["\(prefix).connectionType"]
            return NetworkInterface(name: prefix, macAddress: mac?.lowercased(), addresses: [], network: network)
        }
    }

    /// The machine's facts (disk sizes are filled in by whoever opens the disks).
    public func machineFacts(disks: [DiskFacts]) -> MachineFacts {
        let guestOS = self["guestOS"] ?? ""
        let memoryMiB = UInt64(self["memsize"] ?? "") ?? 0
        let firmware = self["firmware"]?.lowercased()
        return MachineFacts(
            hostname: self["displayName"] ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
            operatingSystem: OperatingSystem(family: Self.family(ofGuest: guestOS), name: guestOS, version: ""),
            cpuCount: Int(self["numvcpus"] ?? "") ?? 1,
            memoryBytes: memoryMiB.multipliedReportingOverflow(by: 1 << 20).overflow ? 0 : memoryMiB << 20,
            networkInterfaces: networkInterfaces,
            disks: disks,
            bootMode: firmware == "efi" ? .uefi : .legacyBIOS
        )
    }

    /// "windows", "linux" or "unknown" from a VMware guest OS identifier ("ubuntu-64",
    /// "windows2019srv-64", "rhel9-64", "otherlinux").
    static func family(ofGuest guest: String) -> String {
        let id = guest.lowercased()
        if id.hasPrefix("win") || id.contains("windows") { return "windows" }
        let linux = ["linux", "ubuntu", "debian", "rhel", "centos", "sles", "suse", "fedora", "oracle", "alma", "rocky", "amazonlinux", "photon", "coreos", "mandrake", "mandriva", "redhat", "asianux", "turbolinux"]
        if linux.contains(where: { id.contains($0) }) { return "linux" }
        return "unknown"
    }
}
