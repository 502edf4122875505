import FerryCore
import FerryKit
import Foundation
import PhysicalSource
import VMwareSource

/// Opens what `ferry disk export` and `ferry disk inspect` are given: a raw image, a qcow2
/// image or a block device (the physical adapter), a .vmdk, or one disk of a .vmx, .ovf or
/// .ova (the vmware adapter).
struct DiskSource {
    var reader: any BlockReader
    var format: String

    enum Failure: Error, CustomStringConvertible {
        case noSuchDisk(path: String, wanted: String, available: [String])
        case unsupported(path: String, reason: String)

        var description: String {
            switch self {
            case .noSuchDisk(let path, let wanted, let available):
                return "\(path): no disk '\(wanted)' (disks: \(available.enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: ", ")))"
            case .unsupported(let path, let reason):
                return "\(path): \(reason)"
            }
        }
    }

    /// A disk that a source adapter finds with `options`: `disk` picks one of all the disks of
    /// all the machines it finds, by index (0 is the first) or by name.
    static func open(adapter name: String, options: [String: String], disk: String?, workspaceRoot: URL) async throws -> DiskSource {
        let source = try InstalledAdapters.source(named: name, workspaceRoot: workspaceRoot)
        let configuration = try AdapterConfiguration(options, for: source.descriptor)
        let disks = try await source.discoverMachines(configuration: configuration).flatMap(\.disks)
        let wanted = disk ?? "0"
        let chosen = Int(wanted).flatMap { disks.indices.contains($0) ? disks[$0] : nil } ?? disks.first { $0.name == wanted }
        guard let chosen else { throw Failure.noSuchDisk(path: "adapter \(name)", wanted: wanted, available: disks.map(\.name)) }
        return DiskSource(reader: try source.openDisk(chosen, configuration: configuration), format: "\(name) adapter, disk \(chosen.name)")
    }

    /// `disk` picks one disk of a machine file, by index (0 is the first) or by name.
    static func open(_ path: String, disk: String?) throws -> DiskSource {
        let kind = URL(fileURLWithPath: path).pathExtension.lowercased()
        if ["vmx", "ovf", "ova"].contains(kind) {
            let disks = try VMwareMachine.discover(path: path).flatMap(\.disks)
            let wanted = disk ?? "0"
            let chosen = Int(wanted).flatMap { disks.indices.contains($0) ? disks[$0] : nil } ?? disks.first { $0.name == wanted }
            guard let chosen else { throw Failure.noSuchDisk(path: path, wanted: wanted, available: disks.map(\.name)) }
            let reader = try VMwareMachine.openDisk(locator: chosen.locator)
            return DiskSource(reader: reader, format: "vmdk (\(reader.createType))")
        }
        let raw = try FileRegionReader(path: path)
        let magic = raw.size >= 4 ? try raw.read(at: 0, count: 4) : []
        if kind == "vmdk" || magic == Array("KDMV".utf8) {
            let reader = try VMDKDisk(path: path)
            return DiskSource(reader: reader, format: "vmdk (\(reader.createType))")
        }
        if magic == QCOW2Reader.magic {
            return DiskSource(reader: try QCOW2Reader(path: path), format: "qcow2")
        }
        return DiskSource(reader: raw, format: "raw")
    }
}
