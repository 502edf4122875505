import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The Machine Converter, as AWS MGN runs it: a small Linux appliance (this machine's kernel and
/// an initramfs with ferry-convert) boots under QEMU with the migrated disk attached as a
/// virtio disk, inspects the system on it offline and, to convert, changes it with the guest's
/// own tools in a chroot so that it boots on the target's devices. Each call boots the
/// appliance once (about 10 s under TCG to inspect; a conversion adds the guest's initramfs
/// and GRUB rebuilds) and reads its serial console.
///
/// Only raw disk files are attached; the caller works on a copy (the staged source disk is
/// never converted in place). `inspect` attaches the disk read-only.
public struct ConverterAppliance: Sendable {
    /// Where the appliance's boot files are kept (built on first use).
    public let cacheDirectory: URL
    public var memoryMiB = 512
    /// The longest a run may take before QEMU is killed.
    public var timeoutSeconds: TimeInterval = 900

    /// The drivers every inspection looks for in each kernel: the targets' and the usual
    /// sources' (VMware, Hyper-V), so the report says what the disk boots on now.
    public static let inspectedDrivers: [String] = {
        var names = TargetPlatform.allCases.flatMap(\.drivers)
        for name in ["vmw_pvscsi", "vmxnet3", "hv_storvsc", "hv_netvsc"] where !names.contains(name) { names.append(name) }
        return names
    }()

    /// The default cache: beside the guest images (GuestImageCache.defaultDirectory).
    public init(cacheDirectory: URL = GuestImageCache.defaultDirectory.appendingPathComponent("converter", isDirectory: true)) {
        self.cacheDirectory = cacheDirectory
    }

    /// Where one run of the appliance writes its console and how it is named, so that a
    /// sandbox converter instance can show it (`ferry sandbox console`) and find its process.
    public struct Run: Sendable {
        /// The QEMU process's name; the run's folder when nil (a private one).
        public var name: String
        public var consolePath: String?
        /// Told QEMU's pid as soon as it runs.
        public var started: @Sendable (Int32) -> Void

        public init(name: String = "ferry-converter", consolePath: String? = nil, started: @escaping @Sendable (Int32) -> Void = { _ in }) {
            self.name = name
            self.consolePath = consolePath
            self.started = started
        }
    }

    /// What is on the disk, without changing it.
    public func inspect(diskAt path: String, run: Run = Run(), log: (String) -> Void = { _ in }) throws -> GuestInspection {
        let console = try boot(disk: path, settings: ["ferry.mode=inspect"], readOnly: true, run: run, log: log)
        guard let inspection = console.inspection else {
            throw ConverterError.applianceFailed(reason: "it printed no inspection", consoleTail: console.tail())
        }
        return inspection
    }

    /// Converts the disk for `platform` in place and reports every change. Throws
    /// `notConvertible` (nothing changed) for a disk it refuses, `conversionFailed` when it
    /// stopped part way (the disk then holds some changes: discard it).
    public func convert(diskAt path: String, for platform: TargetPlatform, run: Run = Run(), log: (String) -> Void = { _ in }) throws -> ConversionReport {
        let started = Date()
        let console = try boot(disk: path, settings: [
            "ferry.mode=convert", "ferry.platform=\(platform.rawValue)", "ferry.drivers=\(platform.drivers.joined(separator: ","))",
        ], readOnly: false, run: run, log: log)
        let seconds = Date().timeIntervalSince(started)
        guard let inspection = console.inspection else {
            throw ConverterError.applianceFailed(reason: "it printed no inspection", consoleTail: console.tail())
        }
        guard let done = console.done, done.outcome == .ok else {
            if !inspection.convertible { throw ConverterError.notConvertible(reasons: inspection.reasons, inspection: inspection) }
            if console.done?.outcome == .refused { throw ConverterError.notConvertible(reasons: [console.done?.reason ?? ""], inspection: inspection) }
            throw ConverterError.conversionFailed(reason: console.done?.reason ?? "no result", changes: console.changes, consoleTail: console.tail())
        }
        for change in console.changes { log("changed \(change.file): \(change.before) → \(change.after)") }
        return ConversionReport(
            platform: platform, changes: console.changes, initramfsTool: console.initramfsCommands.isEmpty ? nil : console.initramfsCommands.joined(separator: "; "),
            notes: console.notes, seconds: seconds, inspection: inspection
        )
    }

    // MARK: The appliance's run

    /// Boots the appliance with the disk attached and returns its console once it is done.
    private func boot(disk: String, settings: [String], readOnly: Bool, run description: Run, log: (String) -> Void) throws -> ConverterConsole {
        try Self.checkRawDisk(disk)
        let image = try ConverterApplianceImage.prepare(in: cacheDirectory, log: log)
        let qemu = try HostCommand.require("qemu-system-x86_64", package: "qemu-system-x86", purpose: "run the converter appliance")
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-converter-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: run) }
        let consolePath = description.consolePath ?? run.appendingPathComponent("console.log").path
        let commandLine = ["console=ttyS0,115200", "quiet", "loglevel=3", "panic=-1"] + settings
            + ["ferry.check=\(Self.inspectedDrivers.joined(separator: ","))"]
        let escaped = disk.replacingOccurrences(of: ",", with: ",,")
        let arguments = [
            "-name", description.name, "-accel", "tcg,tb-size=64", "-m", "\(memoryMiB)", "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", image.kernel, "-initrd", image.initramfs, "-append", commandLine.joined(separator: " "),
            "-serial", "file:\(consolePath)",
            "-drive", "file=\(escaped),if=virtio,format=raw,cache=writeback" + (readOnly ? ",readonly=on" : ""),
        ]
        log("converter appliance: \(settings.first ?? "") \((disk as NSString).lastPathComponent)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: qemu)
        process.arguments = arguments
        let errors = run.appendingPathComponent("qemu.err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        description.started(process.processIdentifier)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }

        let deadline = Date().addingTimeInterval(timeoutSeconds)
        func consoleText() -> String { FileManager.default.contents(atPath: consolePath).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        while process.isRunning && Date() < deadline {
            // ferry-convert prints DONE after it has unmounted everything, then powers off.
            if consoleText().contains("FERRY-CONVERT-DONE ") {
                let grace = Date().addingTimeInterval(30)
                while process.isRunning && Date() < grace { usleep(100_000) }
                break
            }
            usleep(250_000)
        }
        if process.isRunning && Date() >= deadline {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ConverterError.timeout(seconds: Int(timeoutSeconds), consoleTail: try ConverterConsole(text: consoleText()).tail())
        }
        let console = try ConverterConsole(text: consoleText())
        for line in console.progress { log(line) }
        guard console.isDone else {
            let qemuErrors = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw ConverterError.applianceFailed(reason: "it ended without FERRY-CONVERT-DONE" + (qemuErrors.isEmpty ? "" : "; QEMU: \(qemuErrors)"), consoleTail: console.tail())
        }
        return console
    }

    /// A raw disk image: a regular file whose first bytes are not another format's header.
    static func checkRawDisk(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ConverterError.notARawDisk(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ConverterError.notARawDisk(path: path, reason: "not a regular file") }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let head = try handle.read(upToCount: 4) ?? Data()
        let formats: [(String, [UInt8])] = [("qcow2", [0x51, 0x46, 0x49, 0xfb]), ("VMDK", [0x4b, 0x44, 0x4d, 0x56]), ("VHDX", Array("vhdx".utf8))]
        if let format = formats.first(where: { Array(head) == $0.1 }) {
            throw ConverterError.notARawDisk(path: path, reason: "it is a \(format.0) image; convert it to raw first (qemu-img convert -O raw)")
        }
    }
}

/// The appliance as the host's engine for FerryKit: inspection of every launch's disk, and the
/// conversion of disks that are converted on this machine before upload.
extension ConverterAppliance: MachineConverter {
    public func inspect(rawDiskAt path: String, log: @escaping @Sendable (String) -> Void) async throws -> GuestInspection {
        try await BlockingWork.run { try inspect(diskAt: path, log: log) }
    }

    public func convert(rawDiskAt path: String, for platform: TargetPlatform, log: @escaping @Sendable (String) -> Void) async throws -> ConversionReport {
        try await BlockingWork.run { try convert(diskAt: path, for: platform, log: log) }
    }
}
