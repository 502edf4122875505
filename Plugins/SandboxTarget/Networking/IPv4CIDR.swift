/// An IPv4 address block such as `10.0.1.0/24`, parsed strictly (the address must be the
/// block's network address, as a cloud requires).
public struct IPv4CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: UInt32
    public let prefixLength: Int

    public init(_ text: String) throws(SandboxError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .invalidCIDR(text, reason: "expected ADDRESS/PREFIX, such as 10.0.0.0/16") }
        guard let address = IPv4CIDR.parseAddress(String(parts[0])) else {
            throw .invalidCIDR(text, reason: "'\(parts[0])' is not an IPv4 address")
        }
        guard let prefix = Int(parts[1]), (0...32).contains(prefix) else {
            throw .invalidCIDR(text, reason: "the prefix length must be a number from 0 to 32")
        }
        let mask = IPv4CIDR.mask(prefix)
        guard address & mask == address else {
            throw .invalidCIDR(text, reason: "host bits are set; the block starts at \(IPv4CIDR.format(address & mask))/\(prefix)")
        }
        network = address
        prefixLength = prefix
    }

    public var description: String { "\(IPv4CIDR.format(network))/\(prefixLength)" }
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }
    public var last: UInt32 { network | ~IPv4CIDR.mask(prefixLength) }

    public func contains(address: UInt32) -> Bool { address & IPv4CIDR.mask(prefixLength) == network }

    public func contains(_ other: IPv4CIDR) -> Bool {
        other.prefixLength >= prefixLength && contains(address: other.network)
    }

    public func overlaps(_ other: IPv4CIDR) -> Bool { contains(other) || other.contains(self) }

    /// The smallest block that holds this one and `address`, no larger than a /`widest`
    /// (nil when it would have to be).
    public func widened(toHold address: UInt32, widest: Int) -> IPv4CIDR? {
        var prefix = prefixLength
        while prefix > widest, address & IPv4CIDR.mask(prefix) != network & IPv4CIDR.mask(prefix) { prefix -= 1 }
        guard address & IPv4CIDR.mask(prefix) == network & IPv4CIDR.mask(prefix) else { return nil }
        return IPv4CIDR(network: network & IPv4CIDR.mask(prefix), prefixLength: prefix)
    }

    private init(network: UInt32, prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    /// The address `n` places after the network address.
    public func address(at n: UInt32) -> UInt32 { network &+ n }

    public static func mask(_ prefix: Int) -> UInt32 {
        prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)
    }

    public static func parseAddress(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy(\.isASCII), let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    public static func format(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String((address >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }
}
