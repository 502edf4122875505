import FerryCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An OVF descriptor (.ovf, alone or inside an .ova): the files it references, its disks,
/// and each virtual system with its CPUs, memory, NICs and disks.
public struct OVFDescriptor: Hashable, Sendable {
    public struct File: Hashable, Sendable {
        public var id: String
        public var href: String
        public var size: UInt64?
    }

    public struct Disk: Hashable, Sendable {
        public var id: String
        public var fileRef: String?
        public var capacityBytes: UInt64
        public var format: String?
    }

    public struct VirtualSystem: Hashable, Sendable {
        public var id: String
        public var name: String?
        public var operatingSystem: String?
        public var cpuCount: Int
        public var memoryBytes: UInt64
        public var networkInterfaces: [NetworkInterface]
        /// The disk ids (DiskSection) or file ids (References) the hardware section attaches.
        public var diskReferences: [String]
        public var firmware: String?
    }

    public var files: [File]
    public var disks: [Disk]
    public var systems: [VirtualSystem]

    /// The largest descriptor read; real ones are tens of KiB.
    public static let maxSize = 16 << 20

    public static func parse(_ data: Data, file: String) throws(VMwareSourceError) -> OVFDescriptor {
        guard data.count <= maxSize else { throw .invalid(file: file, reason: "\(data.count) bytes is too large for an OVF descriptor") }
        // FoundationXML traps on names that are not valid UTF-8, and libxml2's recovery
        // mode can hand it some: refuse such bytes before parsing.
        guard String(validating: data, as: UTF8.self) != nil else {
            throw .invalid(file: file, reason: "OVF descriptor is not valid UTF-8 text")
        }
        let collector = OVFCollector(file: file)
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = collector
        // The parser runs libxml2 in recovery mode: it may finish "successfully" after an
        // error, which the delegate has seen.
        let finished = parser.parse()
        if let (line, message) = collector.syntaxError ?? (finished ? nil : (parser.lineNumber, parser.parserError.map { "\($0)" } ?? "unknown error")) {
            throw .invalid(file: file, reason: "malformed XML at line \(line): \(message)")
        }
        if let error = collector.error { throw error }
        guard collector.sawEnvelope else { throw .invalid(file: file, reason: "not an OVF descriptor: no Envelope element") }
        guard !collector.systems.isEmpty else { throw .invalid(file: file, reason: "OVF descriptor has no VirtualSystem") }
        return OVFDescriptor(files: collector.files, disks: collector.disks, systems: collector.systems)
    }

    /// The file a hardware disk reference (`ovf:/disk/vmdisk1`, `ovf:/file/file1`) stands for.
    public func file(forDiskReference reference: String) -> (file: File, disk: Disk?)? {
        let id = reference.split(separator: "/").last.map(String.init) ?? reference
        if reference.contains("/file/") { return files.first { $0.id == id }.map { ($0, nil) } }
        guard let disk = disks.first(where: { $0.id == id }), let fileRef = disk.fileRef,
              let file = files.first(where: { $0.id == fileRef }) else { return nil }
        return (file, disk)
    }

    /// Bytes in one `unit` ("byte", "byte * 2^20", "MegaBytes", "GB"), nil when unknown.
    static func unitBytes(_ unit: String?) -> UInt64? {
        guard let unit = unit?.trimmingCharacters(in: .whitespaces), !unit.isEmpty else { return 1 }
        let compact = unit.replacingOccurrences(of: " ", with: "").lowercased()
        if compact == "byte" || compact == "bytes" { return 1 }
        if compact.hasPrefix("byte*2^"), let exponent = UInt64(compact.dropFirst("byte*2^".count)), exponent < 64 { return 1 << exponent }
        let named: [String: UInt64] = ["kb": 1 << 10, "kilobytes": 1 << 10, "mb": 1 << 20, "megabytes": 1 << 20,
                                       "gb": 1 << 30, "gigabytes": 1 << 30, "tb": 1 << 40, "terabytes": 1 << 40]
        return named[compact]
    }

    static func bytes(_ quantity: String?, unit: String?, what: String, file: String) throws(VMwareSourceError) -> UInt64 {
        guard let quantity = quantity?.trimmingCharacters(in: .whitespaces), let value = UInt64(quantity) else {
            throw .invalid(file: file, reason: "\(what) '\(quantity ?? "")' is not a number")
        }
        guard let multiplier = unitBytes(unit) else { throw .invalid(file: file, reason: "\(what) unit '\(unit ?? "")' is not understood") }
        let (result, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw .invalid(file: file, reason: "\(what) of \(value) × \(multiplier) bytes overflows") }
        return result
    }
}

/// Collects the OVF elements Ferry uses while XMLParser walks the document.
private final class OVFCollector: NSObject, XMLParserDelegate {
    let file: String
    var files: [OVFDescriptor.File] = []
    var disks: [OVFDescriptor.Disk] = []
    var systems: [OVFDescriptor.VirtualSystem] = []
    var error: VMwareSourceError?
    var sawEnvelope = false

    private var path: [String] = []
    private var text = ""
    private var system: OVFDescriptor.VirtualSystem?
    private var item: [String: String]?

    /// The first syntax error: its line and libxml2's message.
    var syntaxError: (Int, String)?

    init(file: String) { self.file = file }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        if syntaxError == nil {
            let message = (parseError as NSError).userInfo[NSLocalizedDescriptionKey] as? String
                ?? "XML error \((parseError as NSError).code)"
            syntaxError = (parser.lineNumber, message.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: " "))
        }
    }

    /// Attribute names without their namespace prefix.
    private func plain(_ attributes: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in attributes { result[String(key.split(separator: ":").last ?? Substring(key))] = value }
        return result
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        let element = String(name.split(separator: ":").last ?? Substring(name))
        let attributes = plain(attributes)
        path.append(element)
        text = ""
        guard error == nil else { return }
        switch element {
        case "Envelope":
            sawEnvelope = true
        case "File" where path.contains("References"):
            guard let id = attributes["id"], let href = attributes["href"] else {
                fail("a References/File lacks ovf:id or ovf:href")
                return
            }
            files.append(.init(id: id, href: href, size: attributes["size"].flatMap { UInt64($0) }))
        case "Disk" where path.contains("DiskSection"):
            guard let id = attributes["diskId"] else { fail("a DiskSection/Disk lacks ovf:diskId"); return }
            do {
                let capacity = try OVFDescriptor.bytes(attributes["capacity"], unit: attributes["capacityAllocationUnits"], what: "capacity of disk '\(id)'", file: file)
                disks.append(.init(id: id, fileRef: attributes["fileRef"], capacityBytes: capacity, format: attributes["format"]))
            } catch {
                self.error = error
            }
        case "VirtualSystem":
            system = .init(id: attributes["id"] ?? "vm\(systems.count + 1)", name: nil, operatingSystem: nil, cpuCount: 0,
                           memoryBytes: 0, networkInterfaces: [], diskReferences: [], firmware: nil)
        case "OperatingSystemSection":
            if let osType = attributes["osType"] { system?.operatingSystem = osType }
        case "Item", "EthernetPortItem", "StorageItem":
            if system != nil { item = [:] }
        case "Config":
            if attributes["key"] == "firmware" { system?.firmware = attributes["value"] }
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let element = String(name.split(separator: ":").last ?? Substring(name))
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        defer {
            if !path.isEmpty { path.removeLast() }
            text = ""
        }
        guard error == nil else { return }
        let parent = path.count >= 2 ? path[path.count - 2] : ""
        if item != nil, ["Item", "EthernetPortItem", "StorageItem"].contains(parent) {
            item?[element] = value
            return
        }
        switch element {
        case "Name" where parent == "VirtualSystem":
            system?.name = value
        case "Description" where parent == "OperatingSystemSection":
            if system?.operatingSystem == nil { system?.operatingSystem = value }
        case "Item", "EthernetPortItem", "StorageItem":
            if let item { apply(item) }
            item = nil
        case "VirtualSystem":
            if let system { systems.append(system) }
            system = nil
        default:
            break
        }
    }

    /// Applies one hardware item (CIM resource types: 3 CPU, 4 memory, 10 Ethernet, 17 disk).
    private func apply(_ item: [String: String]) {
        switch item["ResourceType"] ?? "" {
        case "3":
            system?.cpuCount = Int(item["VirtualQuantity"] ?? "") ?? 1
        case "4":
            do {
                system?.memoryBytes = try OVFDescriptor.bytes(item["VirtualQuantity"], unit: item["AllocationUnits"] ?? "byte * 2^20", what: "memory", file: file)
            } catch {
                self.error = error
            }
        case "10":
            let number = system?.networkInterfaces.count ?? 0
            system?.networkInterfaces.append(NetworkInterface(
                name: item["ElementName"] ?? "ethernet\(number)", macAddress: item["Address"]?.lowercased(),
                addresses: [], network: item["Connection"]
            ))
        case "17":
            if let reference = item["HostResource"] { system?.diskReferences.append(reference) }
        default:
            break
        }
    }

    private func fail(_ reason: String) {
        error = .invalid(file: file, reason: reason)
    }
}
