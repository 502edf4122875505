import FerryCore
import Foundation

/// Finds VMware machines and their disks in files: a .vmx, a lone .vmdk, an .ovf with its
/// disk files beside it, or an .ova read in place.
///
/// A disk's locator is the path of its .vmdk; for a disk inside an .ova it is the archive's
/// path followed by the member's name (`/vms/web.ova/web-disk1.vmdk`).
public enum VMwareMachine {
    /// The machines described by the file at `path`, with their facts and disks.
    public static func discover(path given: String) throws -> [MachineFacts] {
        // Locators are absolute: an .ova member's locator is split back into archive and
        // member by the archive's absolute path, and a disk may be opened from elsewhere.
        let path = absolute(given)
        guard FileManager.default.fileExists(atPath: path) else {
            throw VMwareSourceError.invalid(file: path, reason: "no such file")
        }
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "vmx":
            return [try fromVMX(path: path)]
        case "ovf":
            let data = try readSmallFile(path, limit: OVFDescriptor.maxSize)
            let ovf = try OVFDescriptor.parse(data, file: path)
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            return try machines(from: ovf, file: path) { href in
                let diskPath = href.hasPrefix("/") ? href : directory.appendingPathComponent(href).path
                guard FileManager.default.fileExists(atPath: diskPath) else { return nil }
                return diskPath
            }
        case "ova":
            let archive = try FileRegionReader(path: path)
            let tar = try TarArchive(archive, name: path)
            guard let ovfMember = tar.members.first(where: { $0.name.lowercased().hasSuffix(".ovf") }) else {
                throw VMwareSourceError.invalid(file: path, reason: "archive holds no .ovf descriptor")
            }
            guard ovfMember.size <= UInt64(OVFDescriptor.maxSize) else {
                throw VMwareSourceError.invalid(file: path, reason: "\(ovfMember.name) is too large for an OVF descriptor")
            }
            let data = Data(try archive.read(at: ovfMember.offset, count: Int(ovfMember.size)))
            let ovf = try OVFDescriptor.parse(data, file: "\(path)/\(ovfMember.name)")
            return try machines(from: ovf, file: path) { href in
                try TarArchive.checkPath(href, archive: path)
                return tar.member(named: href).map { "\(path)/\($0.name)" }
            }
        default:
            let disk = try openDisk(locator: path)
            let name = URL(fileURLWithPath: path).lastPathComponent
            return [MachineFacts(
                hostname: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
                disks: [DiskFacts(name: name, sizeBytes: disk.size, locator: path, model: "VMDK \(disk.createType)", isBoot: true)]
            )]
        }
    }

    /// Opens the disk a locator from `discover` names.
    public static func openDisk(locator given: String) throws -> VMDKDisk {
        // The archive found below is absolute, so the locator must be too, for the member's
        // name to be what follows the archive's path.
        let locator = absolute(given)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: locator, isDirectory: &isDirectory), !isDirectory.boolValue {
            return try VMDKDisk(path: locator)
        }
        // `archive.ova/member`: the nearest ancestor that is an .ova file.
        var archiveURL = URL(fileURLWithPath: locator)
        while archiveURL.path != "/" {
            archiveURL = archiveURL.deletingLastPathComponent()
            if archiveURL.pathExtension.lowercased() == "ova", FileManager.default.fileExists(atPath: archiveURL.path) {
                let memberName = String(locator.dropFirst(archiveURL.path.count + 1))
                return try openMember(memberName, of: archiveURL.path)
            }
        }
        throw VMwareSourceError.missing(file: locator, reference: locator, role: "disk file")
    }

    /// `path` against the current directory when it is relative, without `.` or `..` parts.
    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }

    static func openMember(_ memberName: String, of archivePath: String) throws -> VMDKDisk {
        let archive = try FileRegionReader(path: archivePath)
        let tar = try TarArchive(archive, name: archivePath)
        guard let member = tar.member(named: memberName) else {
            throw VMwareSourceError.missing(file: archivePath, reference: memberName, role: "archive member")
        }
        let resolver = VMDKDisk.FileResolver { reference in
            try TarArchive.checkPath(reference, archive: archivePath)
            guard let found = tar.member(named: reference) else { return nil }
            return (try FileRegionReader(path: archivePath, base: found.offset, length: found.size), "\(archivePath)/\(found.name)")
        }
        let file = try FileRegionReader(path: archivePath, base: member.offset, length: member.size)
        return try VMDKDisk(file: file, name: "\(archivePath)/\(member.name)", resolver: resolver)
    }

    static func fromVMX(path: String) throws -> MachineFacts {
        let vmx = try VMXFile(path: path)
        var disks: [DiskFacts] = []
        for (index, entry) in vmx.disks.enumerated() {
            guard FileManager.default.fileExists(atPath: entry.path) else {
                throw VMwareSourceError.missing(file: path, reference: entry.fileName, role: "disk file of \(entry.device)")
            }
            let disk = try VMDKDisk(path: entry.path)
            disks.append(DiskFacts(name: entry.device, sizeBytes: disk.size, locator: entry.path, model: "VMDK \(disk.createType)", isBoot: index == 0))
        }
        return vmx.machineFacts(disks: disks)
    }

    /// One machine per virtual system; `locate` turns a file's href into a locator, nil
    /// when the file is missing.
    static func machines(from ovf: OVFDescriptor, file: String, locate: (String) throws -> String?) throws -> [MachineFacts] {
        try ovf.systems.map { system in
            var disks: [DiskFacts] = []
            for (index, reference) in system.diskReferences.enumerated() {
                guard let (diskFile, disk) = ovf.file(forDiskReference: reference) else {
                    throw VMwareSourceError.invalid(file: file, reason: "disk '\(reference)' of \(system.id) is not in the DiskSection or References")
                }
                guard let locator = try locate(diskFile.href) else {
                    throw VMwareSourceError.missing(file: file, reference: diskFile.href, role: "disk file of \(system.id)")
                }
                let opened = try openDisk(locator: locator)
                disks.append(DiskFacts(
                    name: diskFile.href, sizeBytes: max(opened.size, disk?.capacityBytes ?? 0), locator: locator,
                    model: "VMDK \(opened.createType)", isBoot: index == 0
                ))
            }
            let osName = system.operatingSystem ?? ""
            return MachineFacts(
                hostname: system.name ?? system.id,
                operatingSystem: OperatingSystem(family: VMXFile.family(ofGuest: osName), name: osName, version: ""),
                cpuCount: system.cpuCount, memoryBytes: system.memoryBytes,
                networkInterfaces: system.networkInterfaces, disks: disks,
                bootMode: system.firmware.map { $0.lowercased() == "efi" ? .uefi : .legacyBIOS }
            )
        }
    }

    static func readSmallFile(_ path: String, limit: Int) throws -> Data {
        let reader = try FileRegionReader(path: path)
        guard reader.size <= UInt64(limit) else {
            throw VMwareSourceError.invalid(file: path, reason: "\(reader.size) bytes is too large (at most \(limit))")
        }
        return Data(try reader.read(at: 0, count: Int(reader.size)))
    }
}
