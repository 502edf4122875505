/// The guest's network configuration as the converter found it: which tools configure it,
/// from which files, which interfaces they name (and with which addresses), and the rules
/// that give NICs their names (bound to a MAC address or a driver).
public struct GuestNetwork: Codable, Hashable, Sendable {
    /// An interface a configuration file names.
    public struct Interface: Codable, Hashable, Sendable {
        public var name: String
        /// `static`, `dhcp`, `manual`… as the tool says it.
        public var method: String
        /// Static addresses, e.g. `10.0.0.36/24`.
        public var addresses: [String]
        public var file: String

        public init(name: String, method: String, addresses: [String], file: String) {
            self.name = name
            self.method = method
            self.addresses = addresses
            self.file = file
        }
    }

    /// A rule that names a NIC: a systemd .link file or a udev rule with NAME=.
    public struct NamingRule: Codable, Hashable, Sendable {
        public var file: String
        /// What it matches, e.g. `Driver=vmxnet3` or `ATTR{address}=="00:50:56:…"`.
        public var match: String
        public var name: String

        public init(file: String, match: String, name: String) {
            self.file = file
            self.match = match
            self.name = name
        }
    }

    /// `ifupdown`, `netplan`, `systemd-networkd`, `NetworkManager`, `ifcfg`.
    public var tools: [String]
    public var files: [String]
    public var interfaces: [Interface]
    public var namingRules: [NamingRule]

    public init(tools: [String], files: [String], interfaces: [Interface], namingRules: [NamingRule]) {
        self.tools = tools
        self.files = files
        self.interfaces = interfaces
        self.namingRules = namingRules
    }
}
