extension GuestInspection {
    /// One line of what was found, for a job log or a refusal: "Debian GNU/Linux 12 (bookworm),
    /// kernel 6.1.0-28-amd64, grub-pc, initramfs-tools, ifupdown, open-vm-tools".
    public var summary: String {
        var parts: [String] = []
        parts.append(operatingSystem?.prettyName ?? "no operating system found")
        if let kernel = newestKernel { parts.append("kernel \(kernel.version)") }
        if let bootloader { parts.append(bootloader.name) }
        if let initramfsTool { parts.append(initramfsTool) }
        if let network, !network.tools.isEmpty { parts.append(network.tools.joined(separator: "+")) }
        parts += hypervisorTools
        if cloudInit { parts.append("cloud-init") }
        return parts.joined(separator: ", ")
    }
}
