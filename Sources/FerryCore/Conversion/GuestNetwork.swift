/// The guest's network configuration as the converter found it: which tools configure it,
/// from which files, which interfaces they name (and with which addresses), and the rules
/// that give NICs their names (bound to a MAC address or a driver).
public struct GuestNetwork: Codable, Hashable, Sendable {
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
