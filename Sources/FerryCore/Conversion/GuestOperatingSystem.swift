/// What the guest's os-release says about itself, and the family the converter knows how to
/// treat (which tools to expect: update-initramfs or dracut, ifupdown or ifcfg…).
public struct GuestOperatingSystem: Codable, Hashable, Sendable {
    public enum Family: String, Codable, Sendable {
        case debian, rhel, suse, arch, unknown
    }

    public var family: Family
    /// os-release's ID, e.g. `debian`, `ubuntu`, `rocky`.
    public var distribution: String
    /// os-release's VERSION_ID, e.g. `12`.
    public var version: String
    /// os-release's PRETTY_NAME, e.g. `Debian GNU/Linux 12 (bookworm)`.
    public var prettyName: String

    public init(family: Family, distribution: String, version: String, prettyName: String) {
        self.family = family
        self.distribution = distribution
        self.version = version
        self.prettyName = prettyName
    }
}
