/// The network a vmware-debian guest was configured with, as a consultant finds it on a VMware
/// VM: a static address on ens192 and a hostname derived from it. Launch the image with this
/// private address in a subnet of this size, or the guest will not be reachable.
public struct VMwareGuestNetwork: Hashable, Sendable {
    public var interface: String
    public var address: String
    public var prefixLength: Int
    public var gateway: String
    /// The subnet's resolver, where AWS and the sandbox put it (the subnet's base + 2).
    public var nameServer: String
    public var hostname: String

    /// 10.0.0.36/24 on ens192, gateway 10.0.0.1: launch with private IP 10.0.0.36 in 10.0.0.0/24.
    public static let standard = VMwareGuestNetwork(
        interface: "ens192", address: "10.0.0.36", prefixLength: 24, gateway: "10.0.0.1",
        nameServer: "10.0.0.2", hostname: "ip-10-0-0-36"
    )

    /// The subnet the address belongs to, e.g. 10.0.0.0/24.
    public var subnet: String {
        let octets = address.split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4 else { return address + "/\(prefixLength)" }
        let value = octets.reduce(0) { $0 << 8 | $1 }
        let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
        let base = value & mask
        return "\(base >> 24).\(base >> 16 & 255).\(base >> 8 & 255).\(base & 255)/\(prefixLength)"
    }
}
