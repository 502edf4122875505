extension GuestNetwork {
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
}
