import FerryCore
import Foundation

/// Facts about a machine given in a JSON file, for a raw image that cannot tell them itself
/// (`--facts FILE`). Every field is optional; what is missing keeps what the image tells.
///
/// ```json
/// {"hostname": "web1", "operatingSystem": {"family": "linux", "name": "Debian 12"},
///  "cpuCount": 2, "memoryBytes": 4294967296, "bootMode": "UEFI",
///  "networkInterfaces": [{"name": "eth0", "macAddress": "52:54:00:12:34:56", "addresses": ["10.0.0.5"]}]}
/// ```
public struct MachineFactsFile: Decodable, Sendable {
    public var hostname: String?
    public var operatingSystem: OperatingSystemFacts?
    public var cpuCount: Int?
    public var memoryBytes: UInt64?
    public var networkInterfaces: [NetworkInterface]?
    public var bootMode: BootMode?

    public struct OperatingSystemFacts: Decodable, Sendable {
        public var family: String?
        public var name: String?
        public var version: String?
    }

    static let maxSize = 1 << 20

    public static func load(path: String) throws -> MachineFactsFile {
        let reader = try FileRegionReader(path: path)
        guard reader.size <= UInt64(maxSize) else {
            throw PhysicalSourceError.invalidFacts(file: path, reason: "\(reader.size) bytes is too large for a facts file")
        }
        let data = Data(try reader.read(at: 0, count: Int(reader.size)))
        do {
            return try JSONDecoder().decode(MachineFactsFile.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw PhysicalSourceError.invalidFacts(file: path, reason: "not valid JSON: \(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw PhysicalSourceError.invalidFacts(file: path, reason: "field '\(field)': \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            let field = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw PhysicalSourceError.invalidFacts(file: path, reason: "field '\(field)' is required")
        }
    }

    /// `facts` with every field this file gives replaced.
    public func applied(to facts: MachineFacts) -> MachineFacts {
        var result = facts
        if let hostname { result.hostname = hostname }
        if let os = operatingSystem {
            result.operatingSystem = OperatingSystem(
                family: os.family ?? result.operatingSystem.family, name: os.name ?? result.operatingSystem.name,
                version: os.version ?? result.operatingSystem.version
            )
        }
        if let cpuCount { result.cpuCount = cpuCount }
        if let memoryBytes { result.memoryBytes = memoryBytes }
        if let networkInterfaces { result.networkInterfaces = networkInterfaces }
        if let bootMode { result.bootMode = bootMode }
        return result
    }
}

public enum PhysicalSourceError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidFacts(file: String, reason: String)

    public var description: String {
        switch self {
        case .invalidFacts(let file, let reason): return "\(file): \(reason)"
        }
    }
}
