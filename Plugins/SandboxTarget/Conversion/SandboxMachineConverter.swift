import FerryCore
import Foundation
import GRDB

/// The sandbox's Machine Converter, as AWS MGN runs one: an instance named "Machine Converter
/// <server>" in the staging subnet boots the converter appliance with the imported volume
/// attached, converts it, and is terminated. It is a sandbox instance like any other while it
/// works — `ferry sandbox status` lists it, `ferry sandbox console` shows its console — but it
/// has no network card (it reports on its serial console) and boots no image of the sandbox.
extension SandboxCloud {
    /// The image id a converter instance shows: the appliance, which is not a registered image.
    public static let converterImageID = "ferry-machine-converter"

    public func convertVolume(_ request: VolumeConversionRequest, appliance: ConverterAppliance, log: @escaping @Sendable (String) -> Void) throws -> VolumeConversion {
        let diskPath = try volumePath(request.volumeID)
        let type = InstanceType.smallest(fittingMiB: appliance.memoryMiB)
        let id = ResourceID.make(prefix: "i")
        try database.write { db in
            let subnet = try request.subnetID.map { try Self.subnet($0, in: db) } ?? Self.defaultSubnet(in: db)
            try InstanceRecord(
                id: id, name: request.converterName, imageID: Self.converterImageID, instanceType: type.name,
                state: InstanceState.running.rawValue, stateReason: "converting \(request.volumeID) for \(request.platform.rawValue)",
                subnetID: subnet.id, privateIP: nil, securityGroupIDs: JSONText.encode([String]()), ports: JSONText.encode([ForwardedPort]()),
                tags: tagsText(["Name": request.converterName, "ferry:role": "machine-converter"]), pid: nil, consoleOffset: 0,
                firstBoot: FirstBootStatus.unknown.rawValue, launchedAt: Date()
            ).insert(db)
        }
        let folder = instanceDirectory(id)
        let outcome: Result<ConversionReport, any Error>
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let database = self.database
            var tuned = appliance
            tuned.memoryMiB = type.memoryMiB
            outcome = .success(try tuned.convert(diskAt: diskPath, for: request.platform, run: ConverterAppliance.Run(
                name: id, consolePath: folder.appendingPathComponent("console.log").path,
                started: { pid in
                    _ = try? database.write { db in
                        try db.execute(sql: "UPDATE sandboxInstance SET pid = ? WHERE id = ?", arguments: [Int64(pid), id])
                    }
                }
            ), log: log))
        } catch {
            outcome = .failure(error)
        }
        // Terminated either way, with what it did as the reason.
        let reason = switch outcome {
        case .success(let report): "Conversion finished: \(report.changes.count) change\(report.changes.count == 1 ? "" : "s") to \(request.volumeID)"
        case .failure(let error): "Conversion failed: \(error)".prefix(500).description
        }
        try? FileManager.default.removeItem(at: folder)
        try database.write { db in
            try db.execute(sql: "UPDATE sandboxInstance SET state = ?, stateReason = ?, pid = NULL WHERE id = ?",
                           arguments: [InstanceState.terminated.rawValue, reason, id])
        }
        return VolumeConversion(report: try outcome.get(), converterInstanceID: id)
    }
}

extension SandboxTargetAdapter: MachineConversionCapability {
    public func convertVolume(_ request: VolumeConversionRequest, log: @escaping @Sendable (String) -> Void) async throws -> VolumeConversion {
        let appliance = converter
        return try await onCloud { try $0.convertVolume(request, appliance: appliance, log: log) }
    }
}
