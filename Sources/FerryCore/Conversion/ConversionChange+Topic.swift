extension ConversionChange {
    /// What part of the system a change is about, named in English and Japanese: the report's
    /// `why` comes from the converter in English, and a person reading in Japanese sees the
    /// topic in their language beside the file and the before → after.
    public enum Topic: String, Codable, Hashable, Sendable, CaseIterable {
        case fileSystemTable, bootloader, serialConsole, initramfsDrivers, initramfs, network, hypervisorTools, firstBoot, other

        public var english: String {
            switch self {
            case .fileSystemTable: "file systems by UUID"
            case .bootloader: "bootloader names the root by UUID"
            case .serialConsole: "serial console"
            case .initramfsDrivers: "target drivers listed for the initramfs"
            case .initramfs: "initramfs rebuilt with the target's drivers"
            case .network: "DHCP on the target's NIC"
            case .hypervisorTools: "source hypervisor tools disabled"
            case .firstBoot: "first-boot hook enabled"
            case .other: "other"
            }
        }

        public var japanese: String {
            switch self {
            case .fileSystemTable: "ファイルシステムを UUID で指定"
            case .bootloader: "ブートローダーがルートを UUID で指定"
            case .serialConsole: "シリアルコンソール"
            case .initramfsDrivers: "initramfs に入れるターゲットのドライバー"
            case .initramfs: "ターゲットのドライバー入りで initramfs を再生成"
            case .network: "ターゲットの NIC で DHCP"
            case .hypervisorTools: "移行元ハイパーバイザーのツールを無効化"
            case .firstBoot: "初回起動フックを有効化"
            case .other: "その他"
            }
        }
    }

    /// The topic, from the file changed and what it became.
    public var topic: Topic {
        let path = file
        if path == "/etc/fstab" { return .fileSystemTable }
        if after.contains("console=ttyS0") { return .serialConsole }
        if path.contains("grub") || path.hasPrefix("/boot/extlinux") || path.hasPrefix("/boot/syslinux") { return .bootloader }
        if path == "/etc/initramfs-tools/modules" || path.hasPrefix("/etc/dracut.conf") { return .initramfsDrivers }
        if path.hasPrefix("/boot/initr") { return .initramfs }
        if path.hasPrefix("/etc/netplan") || path.hasPrefix("/etc/systemd/network") || path.hasPrefix("/etc/network")
            || path.hasPrefix("/etc/NetworkManager") || path.hasPrefix("/etc/sysconfig/network") || path.hasSuffix("systemd-networkd.service")
            || path.hasPrefix("/etc/udev/rules.d") { return .network }
        if after == "masked" || after.hasPrefix("disabled") { return .hypervisorTools }
        if path.hasPrefix("/etc/systemd/system/multi-user.target.wants/") && after == "enabled" { return .firstBoot }
        return .other
    }
}
