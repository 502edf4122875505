import FerryCore
import Foundation

/// The inspect and convert stages of a launch. The snapshot's root disk is written out as a
/// sparse raw copy on this machine and inspected first, so that a machine the converter cannot
/// handle is refused before anything is created on the target. Then either the target converts
/// the imported volume on a converter instance of its own (the sandbox, as MGN does in the
/// staging subnet), or the copy is converted here and uploaded in its place (a target that
/// cannot boot a converter, such as an AWS endpoint that only stores). The staged disk itself
/// is never changed.
struct ConversionStage {
    let workspace: Workspace
    let target: MigrationTarget
    let converter: (any MachineConverter)?
    let log: JobLog
    let recorder: any MigrationRecorder
    let server: SourceServer
    /// This launch's scratch folder, removed when the launch ends.
    let folder: URL

    /// What the launch does about conversion, decided before anything is created.
    enum Plan {
        /// Launch the disks as they were replicated, with the reason kept in the job.
        case skip(LaunchConversion)
        /// Convert the imported root volume on the target's converter instance.
        case onTarget(any MachineConversionCapability, platform: TargetPlatform, inspection: GuestInspection)
        /// Convert this raw copy here, and import it instead of the staged root disk.
        case here(rawCopy: String, platform: TargetPlatform, inspection: GuestInspection)
    }

    /// The inspect stage: refuses (throws `MigrationError.notConvertible`) what the converter
    /// cannot convert, naming what it found.
    func plan(snapshot: Snapshot, requested: Bool, skipReason: String?, jobID: String) async throws -> Plan {
        guard requested else {
            try log.write("Not inspected", "conversion is off for this launch", ja: "検査なし: この起動では変換しません")
            return .skip(LaunchConversion(outcome: .skipped, reason: skipReason ?? "not asked for (--no-convert): the disks are launched as they were replicated"))
        }
        let images = try target.images()
        guard let platform = images.bootPlatform else {
            try log.write("Not inspected", "adapter '\(target.adapterName)' does not name its platform", ja: "検査なし: アダプター '\(target.adapterName)' はプラットフォームを示していません")
            return .skip(LaunchConversion(outcome: .skipped, reason: "adapter '\(target.adapterName)' does not say what its instances boot on, so there is nothing to convert for"))
        }
        guard let converter else { throw MigrationError.noConverter(platform: platform) }
        guard let root = snapshot.disks.first else { throw MigrationError.snapshotWithoutDisks(snapshotID: snapshot.id) }

        try log.write("Copying the staged root disk", "disk \(root.diskIndex) of \(snapshot.id) to a raw copy on this machine, for the converter",
                      ja: "ステージングのルートディスクをコピー: \(snapshot.id) のディスク \(root.diskIndex) をコンバーター用の raw コピーに")
        let (copy, inspection) = try await Self.inspectRootDisk(of: snapshot, workspace: workspace, converter: converter, folder: folder)
        try log.write("Inspected", inspection.summary, ja: "検査結果: \(inspection.summaryJapanese)")
        guard inspection.convertible else {
            let reason = inspection.reasons.joined(separator: "; ")
            try? workspace.jobs.saveConversion(LaunchConversion(outcome: .refused, platform: platform, inspection: inspection, reason: reason),
                                               jobID: log.jobID, sourceServerID: server.id)
            throw MigrationError.notConvertible(found: inspection.summary, reasons: inspection.reasons)
        }
        if let onTarget = target.machineConversion() {
            try? FileManager.default.removeItem(atPath: copy)  // the target converts its own copy
            return .onTarget(onTarget, platform: platform, inspection: inspection)
        }
        return .here(rawCopy: copy, platform: platform, inspection: inspection)
    }

    /// Writes the snapshot's root disk to `folder` as a sparse raw copy (the staged disk is
    /// never given to the converter) and inspects it; returns the copy's path too.
    static func inspectRootDisk(of snapshot: Snapshot, workspace: Workspace, converter: any MachineConverter, folder: URL) async throws -> (copy: String, inspection: GuestInspection) {
        guard let root = snapshot.disks.first else { throw MigrationError.snapshotWithoutDisks(snapshotID: snapshot.id) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let copy = folder.appendingPathComponent("disk\(root.diskIndex).raw").path
        let store = try StagingStore(workspace: workspace)
        try await BlockingWork.run { try store.exportRaw(snapshotID: snapshot.id, diskIndex: root.diskIndex, to: copy) }
        return (copy, try await converter.inspect(rawDiskAt: copy, log: { _ in }))
    }

    /// Converts the copy on this machine, before it is uploaded.
    func convertHere(rawCopy: String, platform: TargetPlatform, inspection: GuestInspection) async throws -> LaunchConversion {
        let converterName = "on this machine, before upload (the converter appliance under QEMU)"
        try log.write("Converting", "for \(platform.rawValue) (\(platform.summary)), \(converterName)",
                      ja: "変換中: \(platform.rawValue)（\(platform.summary)）向け、アップロード前にこのマシンで")
        do {
            guard let converter else { throw MigrationError.noConverter(platform: platform) }
            let report = try await converter.convert(rawDiskAt: rawCopy, for: platform, log: { _ in })
            return try finish(LaunchConversion(outcome: .converted, platform: platform, converter: converterName, inspection: inspection, report: report))
        } catch {
            try? workspace.jobs.saveConversion(LaunchConversion(outcome: .failed, platform: platform, converter: converterName, inspection: inspection, reason: "\(error)"),
                                               jobID: log.jobID, sourceServerID: server.id)
            throw error
        }
    }

    /// Converts the imported root volume on the target's converter instance. On failure the
    /// imported volumes are deleted: a half-converted disk is never registered or launched.
    func convertOnTarget(_ capability: any MachineConversionCapability, platform: TargetPlatform, inspection: GuestInspection,
                         imported: [ImportedVolume], stagingSubnetID: String?) async throws -> LaunchConversion {
        let name = "Machine Converter \(server.facts.hostname.isEmpty ? server.id : server.facts.hostname)"
        let subnet = stagingSubnetID ?? server.replicationSettings.stagingSubnetID
        try log.write("Converting", "for \(platform.rawValue) (\(platform.summary)) on the converter instance '\(name)' in \(subnet ?? "the default subnet")",
                      ja: "変換中: \(platform.rawValue)（\(platform.summary)）向け、\(subnet ?? "既定のサブネット") のコンバーターインスタンス「\(name)」で")
        do {
            let done = try await capability.convertVolume(
                VolumeConversionRequest(volumeID: imported[0].id, platform: platform, converterName: name, subnetID: subnet), log: { _ in })
            let converter = "converter instance \(done.converterInstanceID) (\(name))" + (subnet.map { " in \($0)" } ?? "")
            // Recorded, and at once recorded removed: it is terminated already, and a diagram of
            // the step still shows where it ran.
            let instance = CloudResource(kind: .instance, id: done.converterInstanceID)
            try recorder.created(instance, role: .converter, attributes: ["name": name, "subnet": subnet ?? ""])
            try recorder.removed(instance)
            try log.write("Converter instance terminated", done.converterInstanceID, ja: "コンバーターインスタンスを終了: \(done.converterInstanceID)")
            return try finish(LaunchConversion(outcome: .converted, platform: platform, converter: converter, inspection: inspection, report: done.report))
        } catch {
            try? workspace.jobs.saveConversion(LaunchConversion(outcome: .failed, platform: platform, converter: name, inspection: inspection, reason: "\(error)"),
                                               jobID: log.jobID, sourceServerID: server.id)
            let volumes = try? target.volumeImport()
            for volume in imported.reversed() {
                do {
                    try await volumes?.deleteImportedVolume(id: volume.id)
                    try? recorder.removed(CloudResource(kind: volume.kind, id: volume.id))
                    try? log.write("Volume deleted", "\(volume.id): the conversion failed, so it is not launched", ja: "ボリュームを削除: \(volume.id)（変換に失敗したため起動しません）")
                } catch {}
            }
            throw error
        }
    }

    /// Records a skipped conversion.
    func skipped(_ conversion: LaunchConversion) throws {
        try workspace.jobs.saveConversion(conversion, jobID: log.jobID, sourceServerID: server.id)
        try log.write("Conversion skipped", conversion.reason ?? "", ja: "変換なし: この起動ではディスクをレプリケーションされたまま使います（理由はジョブの記録にあります）")
    }

    /// Keeps the report with the job and writes every change to its log.
    private func finish(_ conversion: LaunchConversion) throws -> LaunchConversion {
        try workspace.jobs.saveConversion(conversion, jobID: log.jobID, sourceServerID: server.id)
        for change in conversion.report?.changes ?? [] {
            try log.write("Changed \(change.file)", "\(change.before) → \(change.after) (\(change.why))",
                          ja: "変更 \(change.file)（\(change.topic.japanese)）: \(change.before) → \(change.after)")
        }
        for note in conversion.report?.notes ?? [] { try log.write("Conversion note", note, ja: "変換の注記: \(note)") }
        let headline = conversion.headline
        try log.write("Converted", headline.en + String(format: " in %.0f s", conversion.report?.seconds ?? 0), ja: "変換完了: \(headline.ja)")
        return conversion
    }
}
