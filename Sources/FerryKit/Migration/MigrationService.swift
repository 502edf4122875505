import FerryCore
import Foundation

/// Launch (test and cutover), mark ready, revert and finalize, and the lifecycle moves they
/// imply, in one place. Recipe steps (and, later, commands and the API) are thin callers.
///
/// A launch is a job that reads like a pipeline of named stages (`LaunchStage`), each
/// written to the job's log as it starts and ends; the lifecycle moves first, so that an
/// illegal launch is refused before anything is created, and moves back when the job fails.
public struct MigrationService: Sendable {
    public let workspace: Workspace
    public let target: MigrationTarget
    public let recorder: any MigrationRecorder

    public init(workspace: Workspace, target: MigrationTarget, recorder: any MigrationRecorder) {
        self.workspace = workspace
        self.target = target
        self.recorder = recorder
    }

    // MARK: Launch

    public func launch(_ request: LaunchRequest, initiatedBy initiator: String) async throws -> LaunchResult {
        let servers = workspace.sourceServers
        let serverID = request.sourceServerID
        let server = try servers.find(id: serverID)
        let revert: LifecycleAction
        switch request.mode {
        case .test:
            try servers.perform(.launchTest, on: serverID)
            revert = .revertToReadyForTest
        case .cutover:
            if server.lifecycleState == .testing { try servers.perform(.markReadyForCutover, on: serverID) }
            try servers.perform(.launchCutover, on: serverID)
            revert = .revertToReadyForCutover
        }
        let job = Job(kind: request.mode == .test ? .launchTest : .launchCutover, status: .started, sourceServerIDs: [serverID])
        try workspace.jobs.create(job)
        let log = JobLog(jobs: workspace.jobs, jobID: job.id, serverID: serverID, recorder: recorder)
        try log.write("Job started", "\(job.id): \(request.mode.rawValue) launch of \(serverID), initiated by \(initiator)",
                      ja: "ジョブ開始: \(job.id): \(serverID) の\(request.mode == .test ? "テスト" : "カットオーバー")起動")
        do {
            let result = try await run(request, server: server, log: log, jobID: job.id)
            try workspace.jobs.setStatus(job.id, .completed, ended: true)
            try log.write("Job finished", "\(request.mode.rawValue) instance \(result.instance.id)",
                          ja: "ジョブ完了: \(request.mode == .test ? "テスト" : "カットオーバー")インスタンス \(result.instance.id)")
            return result
        } catch {
            try? log.write("Job failed", "\(error)", ja: "ジョブ失敗: \(error)")
            try? workspace.jobs.setStatus(job.id, .failed, ended: true)
            // The server goes back to where it was: a failed launch leaves nothing to test.
            _ = try? servers.perform(revert, on: serverID)
            throw error
        }
    }

    private func run(_ request: LaunchRequest, server: SourceServer, log: JobLog, jobID: String) async throws -> LaunchResult {
        let mode = request.mode
        let store = try StagingStore(workspace: workspace)

        try log.stage(.selectSnapshot)
        let snapshot: Snapshot
        if let id = request.snapshotID {
            snapshot = try store.snapshot(id: id)
        } else {
            // Newest first: the latest, or the newest taken at or before the point asked for.
            let retained = try store.snapshots(sourceServerID: server.id)
            guard !retained.isEmpty else { throw MigrationError.noSnapshot(sourceServerID: server.id) }
            if let time = request.pointInTime {
                guard let chosen = retained.first(where: { $0.takenAt <= time }) else {
                    throw MigrationError.noPointInTime(sourceServerID: server.id, asked: time, oldest: retained.last!.takenAt)
                }
                snapshot = chosen
            } else {
                snapshot = retained[0]
            }
        }
        guard snapshot.sourceServerID == server.id else { throw MigrationError.snapshotOfAnotherServer(snapshotID: snapshot.id, sourceServerID: server.id) }
        try log.write("Snapshot selected", "\(snapshot.id), taken \(snapshot.takenAt.ISO8601Format())",
                      ja: "スナップショットを選択: \(snapshot.id)、取得 \(snapshot.takenAt.ISO8601Format())")

        let folder = workspace.root.appendingPathComponent("conversion", isDirectory: true).appendingPathComponent(jobID, isDirectory: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let stage = ConversionStage(workspace: workspace, target: target, converter: target.registry.machineConverter, log: log,
                                    recorder: recorder, server: server, folder: folder)
        try log.stage(.inspect)
        let plan = try await stage.plan(snapshot: snapshot, requested: request.convert, skipReason: request.skipReason, jobID: jobID)

        var conversion: LaunchConversion
        var convertedRoot: String?
        switch plan {
        case .skip(let skipped):
            try log.stage(.convert)
            try stage.skipped(skipped)
            conversion = skipped
        case .here(let rawCopy, let platform, let inspection):
            try log.stage(.convert)
            conversion = try await stage.convertHere(rawCopy: rawCopy, platform: platform, inspection: inspection)
            convertedRoot = rawCopy
        case .onTarget:
            conversion = LaunchConversion(outcome: .skipped)  // set below, once the volumes are imported
        }

        try log.stage(.importVolumes)
        let volumes = try target.volumeImport()
        var imported: [ImportedVolume] = []
        for disk in snapshot.disks {
            // The root disk converted here is uploaded in place of the staged one.
            let reader: any BlockReader = if disk.diskIndex == snapshot.disks.first?.diskIndex, let convertedRoot {
                try FileRegionReader(path: convertedRoot)
            } else {
                try store.reader(snapshotID: snapshot.id, diskIndex: disk.diskIndex)
            }
            let volume = try await volumes.importVolume(
                VolumeImportRequest(name: "\(server.id)-\(mode.rawValue)-disk\(disk.diskIndex)", source: reader, tags: ["Name": "\(request.name) disk \(disk.diskIndex)"]),
                progress: nil
            )
            try recorder.created(CloudResource(kind: volume.kind, id: volume.id), role: .volume(mode), attributes: ["snapshot": snapshot.id])
            try log.write("Volume imported", "disk \(disk.diskIndex) as \(volume.id)" + (convertedRoot != nil && imported.isEmpty ? " (converted)" : ""),
                          ja: "ボリュームをインポート: ディスク \(disk.diskIndex) → \(volume.id)")
            imported.append(volume)
        }
        guard let root = imported.first else { throw MigrationError.snapshotWithoutDisks(snapshotID: snapshot.id) }

        if case .onTarget(let capability, let platform, let inspection) = plan {
            try log.stage(.convert)
            conversion = try await stage.convertOnTarget(capability, platform: platform, inspection: inspection, imported: imported,
                                                      stagingSubnetID: request.stagingSubnetID)
        }

        try log.stage(.registerImage)
        let image = try await target.images().registerImage(
            name: "\(server.id)-\(mode.rawValue)-\(snapshot.id)", rootVolume: root, additionalVolumes: Array(imported.dropFirst()),
            bootMode: conversion.inspection?.firmware == "uefi" ? .uefi : (server.facts.bootMode ?? .legacyBIOS), tags: ["Name": request.name]
        )
        try recorder.created(CloudResource(kind: .image, id: image.id), role: .image(mode), attributes: [:])
        try log.write("Image registered", image.id, ja: "イメージを登録: \(image.id)")

        try log.stage(.launchInstance)
        var settings = server.launchSettings
        settings.instanceType = request.instanceType
        settings.subnetID = request.subnetID
        settings.securityGroupIDs = request.securityGroupIDs
        settings.tags["Name"] = request.name
        let compute = try target.compute()
        let instance = try await compute.launchInstance(imageID: image.id, settings: settings, userData: nil, name: request.name)
        try recorder.created(CloudResource(kind: .instance, id: instance.id), role: .instance(mode), attributes: ["name": request.name, "subnet": request.subnetID])
        try log.write("Launched instance", instance.id, ja: "インスタンスを起動: \(instance.id)")

        try log.stage(.verify)
        var url = "", unreachable = ""
        do {
            let endpoint = try await compute.endpoint(instanceID: instance.id, port: 80)
            (url, unreachable) = ("http://\(endpoint.host):\(endpoint.port)/", "")
            try log.write("Instance reachable", url, ja: "インスタンスに到達可能: \(url)")
        } catch let error as NoReachableEndpoint {
            (url, unreachable) = ("", error.description)
            try log.write("No reachable endpoint", "\(error); its HTTP checks will be skipped", ja: "到達可能なエンドポイントなし: \(error)。HTTP の確認は省略します")
        }
        return LaunchResult(jobID: jobID, snapshotID: snapshot.id, volumeIDs: imported.map(\.id), imageID: image.id, instance: instance,
                            url: url, noEndpointReason: unreachable, conversion: conversion)
    }

    // MARK: Inspection

    /// What the converter finds on a snapshot's root disk (the latest unless one is named), and
    /// the platform a launch would convert it for: a launch's inspect stage, on its own, so that
    /// a person sees before launching what will be changed and whether it can be.
    public func inspect(sourceServerID: String, snapshotID: String? = nil) async throws -> SnapshotInspection {
        let server = try workspace.sourceServers.find(id: sourceServerID)
        let store = try StagingStore(workspace: workspace)
        guard let snapshot = try snapshotID.map({ try store.snapshot(id: $0) }) ?? store.snapshots(sourceServerID: server.id).first else {
            throw MigrationError.noSnapshot(sourceServerID: server.id)
        }
        guard snapshot.sourceServerID == server.id else { throw MigrationError.snapshotOfAnotherServer(snapshotID: snapshot.id, sourceServerID: server.id) }
        let platform = try target.images().bootPlatform
        guard let converter = target.registry.machineConverter else { throw MigrationError.noConverter(platform: platform ?? .sandbox) }
        let folder = workspace.root.appendingPathComponent("conversion", isDirectory: true).appendingPathComponent("inspect-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (_, inspection) = try await ConversionStage.inspectRootDisk(of: snapshot, workspace: workspace, converter: converter, folder: folder)
        return SnapshotInspection(snapshotID: snapshot.id, inspection: inspection, platform: platform,
                                  convertsOnTarget: target.machineConversion() != nil)
    }

    // MARK: After a launch

    /// After a successful test: the test instance is terminated, as the console does, then
    /// the image and volumes the test launch made for it are removed (nothing launches from
    /// them again: the cutover imports its own), and the server is READY_FOR_CUTOVER.
    /// - Parameter testLaunchResources: the image and volumes of the test launch, in the
    ///   order they were created; they are removed newest first.
    @discardableResult
    public func markReadyForCutover(sourceServerID: String, testInstanceID: String?, testLaunchResources: [CloudResource] = []) async throws -> SourceServer {
        let server = try workspace.sourceServers.perform(.markReadyForCutover, on: sourceServerID)
        if let testInstanceID, !testInstanceID.isEmpty {
            _ = try await target.compute().terminateInstance(id: testInstanceID)
            try recorder.removed(CloudResource(kind: .instance, id: testInstanceID))
            recorder.progress(en: "test instance \(testInstanceID) terminated", ja: "テストインスタンス \(testInstanceID) を終了しました")
        }
        for resource in testLaunchResources.reversed() {
            do {
                switch resource.kind {
                case .image: try await target.images().deregisterImage(id: resource.id)
                case .volume, .snapshot: try await target.volumeImport().deleteImportedVolume(id: resource.id)
                default: continue  // only what a launch makes besides its instance
                }
            } catch let error as any ResourceNotFoundError where error.isResourceNotFound {
                // Already gone: removed is what it should be.
            }
            try recorder.removed(resource)
            recorder.progress(en: "test \(resource.kind.rawValue) \(resource.id) removed",
                              ja: "テスト用の\(resource.kind == .image ? "イメージ" : "ボリューム") \(resource.id) を削除しました")
        }
        return server
    }

    /// The cutover is complete: replication is stopped, the staging snapshots go (under the
    /// staging lock, which the replication server, stopped first by the caller, let go of),
    /// and the source server is archived.
    public func finalize(sourceServerID: String) async throws -> FinalizeResult {
        let servers = workspace.sourceServers
        try servers.perform(.finalizeCutover, on: sourceServerID)
        try servers.recordIfAllowed(.stop, for: sourceServerID)
        let lock = try await WorkspaceLock.acquire(workspace: workspace, name: StagingStore.writerLockName,
                                                   purpose: "finalize of \(sourceServerID)", patience: .seconds(10))
        defer { withExtendedLifetime(lock) {} }
        let store = try StagingStore(workspace: workspace)
        let snapshots = try store.snapshots(sourceServerID: sourceServerID)
        let garbage = try store.deleteSnapshots(sourceServerID: sourceServerID)
        recorder.progress(en: "\(snapshots.count) staging snapshot\(snapshots.count == 1 ? "" : "s") removed, \(garbage.bytesReclaimed >> 20) MiB reclaimed",
                          ja: "ステージングスナップショット \(snapshots.count) 件を削除し、\(garbage.bytesReclaimed >> 20) MiB を解放しました")
        let archived = try servers.perform(.archive, on: sourceServerID)
        return FinalizeResult(server: archived, snapshotsRemoved: snapshots.count, bytesReclaimed: garbage.bytesReclaimed)
    }
}

/// A snapshot's root disk as the converter found it, and the platform it would be converted for
/// (nil when the target does not say); `convertsOnTarget` when the target has a converter instance.
public struct SnapshotInspection: Sendable {
    public var snapshotID: String
    public var inspection: GuestInspection
    public var platform: TargetPlatform?
    public var convertsOnTarget: Bool
}

public struct FinalizeResult: Sendable {
    public var server: SourceServer
    public var snapshotsRemoved: Int
    public var bytesReclaimed: UInt64
}
