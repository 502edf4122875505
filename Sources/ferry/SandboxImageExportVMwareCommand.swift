import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import SandboxTarget
import VMwareSource

/// Writes a sandbox image as the files of a VMware VM, so that a consultant's migration can
/// start where a real one does: from a .vmx on a datastore, or from an .ova.
struct SandboxImageExportVMwareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-vmware",
        abstract: "Write an image as a VMware VM: NAME.vmx with NAME.vmdk + NAME-flat.vmdk (as on an ESXi datastore), and NAME.ova.",
        discussion: """
        The image must have been built for VMware's devices (the vmware-debian profile: pvscsi and \
        vmxnet3); the .vmx and the OVF say so, and the vmware source adapter reads either back.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image's id or name (ferry-vmware-debian).")
    var image: String

    @Argument(help: "The folder to write into (created if missing).")
    var directory: String

    @Option(help: "The VM's name: the files' names and its display name.")
    var name = "vmware-debian"

    func run() async throws {
        let sandbox = try global.openSandbox()
        let images = try sandbox.describeImages()
        guard let found = images.last(where: { $0.id == image || $0.name == image }) else {
            throw CommandRefusal("no sandbox image '\(image)' (images: \(images.map { "\($0.id) \($0.name)" }.joined(separator: ", ")); `ferry sandbox images` lists them)")
        }
        let details = try sandbox.imageDetails(id: found.id)
        let controller: VMwareMachineFiles.DiskController
        switch details.hardware.diskBus {
        case .pvscsi: controller = .pvscsi
        case .virtio, .nvme:
            throw CommandRefusal("image \(found.id) was built for a \(details.hardware.diskBus.rawValue) disk, a device VMware does not have: export an image of the vmware-debian profile (`ferry sandbox image build --profile vmware-debian`)")
        }
        let adapter: VMwareMachineFiles.NetworkAdapter = details.hardware.nicModel == .e1000 ? .e1000 : .vmxnet3
        guard details.hardware.nicModel != .virtio else {
            throw CommandRefusal("image \(found.id) has a virtio NIC, a device VMware does not have: export an image of the vmware-debian profile")
        }
        let machine = VMwareMachineFiles(name: name, guestOS: "debian12-64", memoryMiB: max(details.minimumMemoryMiB, 512), cpus: 1, controller: controller, networkAdapter: adapter)
        let folder = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let disk = try FileRegionReader(path: details.rootVolumePath)
        let started = Date()

        // The datastore layout: the flat extent (sparse), its descriptor, the .vmx last, so
        // that a .vmx in the folder means its disk is complete.
        let (flat, descriptor, vmx) = ("\(name)-flat.vmdk", "\(name).vmdk", "\(name).vmx")
        let flatPath = folder.appendingPathComponent(flat).path
        try await BlockingWork.run { try SparseRawWriter().write(disk, to: flatPath, progress: nil) }
        try Self.write(machine.flatDescriptor(flatFile: flat, capacity: disk.size), to: folder.appendingPathComponent(descriptor))
        try Self.write(machine.vmx(descriptorFile: descriptor), to: folder.appendingPathComponent(vmx))

        // The .ova: the OVF first, then the disk, streamOptimized.
        let ova = folder.appendingPathComponent("\(name).ova").path
        let streamDisk = "\(name)-disk1.vmdk"
        let scratch = folder.appendingPathComponent(".\(name).ova-parts", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let streamPath = scratch.appendingPathComponent(streamDisk).path
        try await BlockingWork.run { try StreamOptimizedWriter().write(disk, to: streamPath, progress: nil) }
        let streamReader = try FileRegionReader(path: streamPath)
        let ovf = machine.ovf(diskFile: streamDisk, diskFileBytes: streamReader.size, capacity: disk.size)
        let ovfPath = scratch.appendingPathComponent("\(name).ovf")
        try Self.write(ovf, to: ovfPath)
        try await BlockingWork.run {
            var tar = try TarWriter(creating: ova)
            try tar.append(name: "\(name).ovf", contents: try FileRegionReader(path: ovfPath.path))
            try tar.append(name: streamDisk, contents: streamReader)
            try tar.finish()
        }

        let written = [vmx, descriptor, flat, "\(name).ova"].map { folder.appendingPathComponent($0).path }
        if global.output == .json {
            struct Result: Encodable { var image: String; var files: [String]; var seconds: Double }
            return try Output.json(Result(image: found.id, files: written, seconds: Date().timeIntervalSince(started)))
        }
        print("Wrote \(found.id) (\(details.hardware.summary)) as a VMware VM in \(String(format: "%.1f", Date().timeIntervalSince(started))) s:")
        for file in written { print("  \(file)") }
        print("Add it as a source: ferry source add --adapter vmware --path \(written[0])")
    }

    private static func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}
