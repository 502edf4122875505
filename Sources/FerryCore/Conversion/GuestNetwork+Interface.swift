extension GuestNetwork {
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
}
