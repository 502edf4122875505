/// What a source adapter knows about a machine: the facts a migration console shows before
/// anything is replicated.
public struct MachineFacts: Codable, Hashable, Sendable {
    public var hostname: String
    public var operatingSystem: OperatingSystem
    public var cpuCount: Int
    public var memoryBytes: UInt64
    public var networkInterfaces: [NetworkInterface]
    public var disks: [DiskFacts]
    /// Firmware the machine boots with, when the source can tell.
    public var bootMode: BootMode?

    public init(
        hostname: String,
        operatingSystem: OperatingSystem = OperatingSystem(),
        cpuCount: Int = 0,
        memoryBytes: UInt64 = 0,
        networkInterfaces: [NetworkInterface] = [],
        disks: [DiskFacts] = [],
        bootMode: BootMode? = nil
    ) {
        self.hostname = hostname
        self.operatingSystem = operatingSystem
        self.cpuCount = cpuCount
        self.memoryBytes = memoryBytes
        self.networkInterfaces = networkInterfaces
        self.disks = disks
        self.bootMode = bootMode
    }
}

public struct OperatingSystem: Codable, Hashable, Sendable {
    /// "linux", "windows", or "unknown".
    public var family: String
    /// A human name such as "Debian GNU/Linux 12 (bookworm)".
    public var name: String
    public var version: String

    public init(family: String = "unknown", name: String = "", version: String = "") {
        self.family = family
        self.name = name
        self.version = version
    }
}

public struct NetworkInterface: Codable, Hashable, Sendable {
    public var name: String
    public var macAddress: String?
    public var addresses: [String]
    /// The network the interface is attached to, for virtual machines ("VM Network").
    public var network: String?

    public init(name: String, macAddress: String? = nil, addresses: [String] = [], network: String? = nil) {
        self.name = name
        self.macAddress = macAddress
        self.addresses = addresses
        self.network = network
    }
}

public enum BootMode: String, Codable, Hashable, Sendable, CaseIterable {
    case legacyBIOS = "LEGACY_BIOS"
    case uefi = "UEFI"
}
