/// How the guest boots its kernel: the bootloader found, its configuration file (inside the
/// guest) and the root= the configuration gives the kernel.
public struct GuestBootloader: Codable, Hashable, Sendable {
    /// `grub2` (/boot/grub/grub.cfg or /boot/grub2/grub.cfg), `extlinux`, or `none`.
    public var name: String
    public var configPath: String?
    /// root= of the first menu entry: `/dev/sda1`, `UUID=…`, `LABEL=…`.
    public var rootArgument: String?
    /// GRUB_CMDLINE_LINUX as /etc/default/grub and grub.d make it (what update-grub would use).
    public var commandLine: String?

    public init(name: String, configPath: String?, rootArgument: String?, commandLine: String?) {
        self.name = name
        self.configPath = configPath
        self.rootArgument = rootArgument
        self.commandLine = commandLine
    }

    /// Whether root= names the file system rather than the device it happens to be on.
    public var rootIsStable: Bool {
        guard let rootArgument else { return false }
        return ["UUID=", "LABEL=", "PARTUUID=", "PARTLABEL=", "/dev/disk/by-uuid/", "/dev/disk/by-label/", "/dev/mapper/"].contains { rootArgument.hasPrefix($0) }
    }
}
