import Foundation

extension GuestInspection {
    /// One line of what was found, for a job log or a refusal: "Debian GNU/Linux 12 (bookworm),
    /// kernel 6.1.0-28-amd64, grub-pc, initramfs-tools, ifupdown, open-vm-tools".
    public var summary: String {
        var parts: [String] = []
        parts.append(operatingSystemName ?? "no operating system the converter knows (no os-release)")
        if let kernel = newestKernel { parts.append("kernel \(kernel.version)") }
        if let bootloader { parts.append(bootloader.name) }
        if let initramfsTool { parts.append(initramfsTool) }
        if let network, !network.tools.isEmpty { parts.append(network.tools.joined(separator: "+")) }
        parts += hypervisorTools
        if cloudInit { parts.append("cloud-init") }
        return parts.joined(separator: ", ")
    }

    /// The same in Japanese: the names stay, what is missing is said in Japanese.
    public var summaryJapanese: String {
        let english = summary
        guard operatingSystemName == nil else { return english.replacingOccurrences(of: ", kernel ", with: "、カーネル ").replacingOccurrences(of: ", ", with: "、") }
        return english.replacingOccurrences(of: "no operating system the converter knows (no os-release)", with: "コンバーターの知るオペレーティングシステムなし（os-release なし）")
            .replacingOccurrences(of: ", ", with: "、")
    }

    /// The OS's name as os-release gives it, nil when there is none.
    var operatingSystemName: String? {
        guard let os = operatingSystem else { return nil }
        let name = os.prettyName.isEmpty ? "\(os.distribution) \(os.version)".trimmingCharacters(in: .whitespaces) : os.prettyName
        return name.isEmpty ? nil : name
    }

    /// Why it cannot be converted, in Japanese: the converter's reasons are English sentences,
    /// each of a known kind.
    public var reasonsJapanese: [String] {
        reasons.map { reason in
            let kinds: [(String, String)] = [
                ("encrypted root", "ルートが暗号化されています"),
                ("the root is on LVM", "ルートが LVM 上にあります（まだ扱えません）"),
                ("Windows", "Windows です（まだ扱えません）"),
                ("no Linux root file system", "ディスクに Linux のルートファイルシステムがありません"),
                ("unknown OS family", "オペレーティングシステムの系統が不明です（os-release がないか、知らない系統です）"),
                ("no kernel", "カーネルとそのモジュールがありません"),
            ]
            if let kind = kinds.first(where: { reason.hasPrefix($0.0) }) { return kind.1 }
            if reason.hasSuffix("is not on this disk") { return "fstab のファイルシステムがこのディスクにありません" }
            return "変換できない理由があります（ジョブの記録を参照）"
        }
    }
}

extension GuestInspection {
    /// Whether the disk boots on `platform` as it is now: nil when that cannot be told (no
    /// kernel the converter can read, as on a guest that is not a distribution).
    public func bootability(on platform: TargetPlatform) -> Bool? {
        newestKernel == nil ? nil : bootsOn(platform)
    }

    /// What a conversion for `platform` will have to do to this disk, as it is now, in English
    /// and Japanese: what a person reads before launching. Empty when it already boots there.
    public func plannedWork(for platform: TargetPlatform) -> [(en: String, ja: String)] {
        var work: [(en: String, ja: String)] = []
        if let kernel = newestKernel {
            let missing = platform.drivers.filter { kernel.driver($0)?.availableAtBoot != true }
            if !missing.isEmpty {
                let tool = initramfsTool ?? "the guest's initramfs tool"
                work.append(("put \(missing.joined(separator: ", ")) in the initramfs of kernel \(kernel.version), regenerated with \(tool)",
                             "カーネル \(kernel.version) の initramfs に \(missing.joined(separator: ", ")) を入れる（\(tool) で再生成）"))
            }
        }
        let byDevice = fstab.filter(\.namesDevice)
        if !byDevice.isEmpty {
            let specs = byDevice.map { "\($0.spec) (\($0.mountPoint))" }.joined(separator: ", ")
            work.append(("name \(specs) by UUID in /etc/fstab", "/etc/fstab の \(specs) を UUID で指定する"))
        }
        if let bootloader, !bootloader.rootIsStable {
            work.append(("make \(bootloader.name) name the root by UUID, not \(bootloader.rootArgument ?? "a device")",
                         "\(bootloader.name) がルートを \(bootloader.rootArgument ?? "デバイス名") ではなく UUID で指定するようにする"))
        }
        let fixed = (network?.interfaces ?? []).filter { $0.method != "dhcp" || !$0.addresses.isEmpty }
        if !fixed.isEmpty || !(network?.namingRules ?? []).isEmpty {
            let names = fixed.map { "\($0.name) \($0.method)\($0.addresses.isEmpty ? "" : " " + $0.addresses.joined(separator: " "))" }.joined(separator: ", ")
            let rules = (network?.namingRules ?? []).map { ($0.file as NSString).lastPathComponent }
            let ruleText = rules.isEmpty ? (en: "", ja: "") : (en: ", and disable the NIC naming rule\(rules.count == 1 ? "" : "s") \(rules.joined(separator: ", "))",
                                                                ja: "、NIC の命名規則 \(rules.joined(separator: ", ")) を無効化")
            work.append(("use DHCP on the target's NIC (systemd-networkd or the guest's own tool) instead of \(names.isEmpty ? "the source's NIC names" : names)\(ruleText.en)",
                         "\(names.isEmpty ? "移行元の NIC 名" : names) の代わりにターゲットの NIC で DHCP（systemd-networkd またはゲスト自身のツール）\(ruleText.ja)"))
        }
        if !hypervisorTools.isEmpty {
            let tools = hypervisorTools.joined(separator: ", ")
            work.append(("disable \(tools), which belong to the source's hypervisor", "移行元ハイパーバイザーの \(tools) を無効にする"))
        }
        return work
    }
}
