import FerryCore
import Foundation

/// A test or cutover launch, as a job reads: take the latest consistent snapshot, import its
/// disks into the target, register an image, launch an instance with the launch settings,
/// and move the source server through its lifecycle.
public struct LaunchFromSnapshotAction: RecipeAction {
    public init() {}

    public let name = "migration.launch"
    public let summary = "Launch a test or cutover instance from the latest snapshot"
    public let inputs = [
        RecipeActionInput("source_server_id", .string, help: "the source server"),
        RecipeActionInput("mode", .string, help: "test or cutover"),
        RecipeActionInput("name", .string, help: "the instance's Name tag"),
        RecipeActionInput("subnet_id", .string, help: "the target subnet"),
        RecipeActionInput("security_group_ids", .list, default: .list([]), help: "security groups"),
        RecipeActionInput("instance_type", .string, default: .string("t3.small"), help: "the instance type"),
        RecipeActionInput("snapshot_id", .string, default: .string(""), help: "a snapshot to launch from (default: the latest)"),
    ]
    public let outputs = ["instance_id", "image_id", "snapshot_id", "url", "private_ip", "no_endpoint_reason"]
    public let requiredCapabilities: [Capability] = [.volumeImport, .images, .compute]

    public func plan(_ inputs: RecipeInputs) -> [String] {
        let mode = inputs.optionalString("mode") ?? "?"
        return ["import the latest snapshot of \(inputs.optionalString("source_server_id") ?? "?") as a volume", "register an image from it",
                "launch the \(mode) instance \(inputs.optionalString("name") ?? "?") in \(inputs.optionalString("subnet_id") ?? "?")"]
    }

    public func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let mode = try inputs.string("mode")
        guard mode == "test" || mode == "cutover" else { throw RecipeInputError.invalid(name: "mode", reason: "must be test or cutover, not '\(mode)'") }
        let serverID = try inputs.string("source_server_id")
        let servers = context.workspace.sourceServers
        let server = try servers.find(id: serverID)
        // The lifecycle first: an illegal launch is refused before anything is created.
        if mode == "test" {
            try servers.perform(.launchTest, on: serverID)
        } else {
            if server.lifecycleState == .testing { try servers.perform(.markReadyForCutover, on: serverID) }
            try servers.perform(.launchCutover, on: serverID)
        }
        let store = try StagingStore(workspace: context.workspace)
        let requested = inputs.optionalString("snapshot_id") ?? ""
        guard let snapshot = requested.isEmpty ? try store.snapshots(sourceServerID: serverID).first : try store.snapshot(id: requested) else {
            throw RecipeInputError.invalid(name: "source_server_id", reason: "\(serverID) has no snapshot yet")
        }
        context.progress("launching from snapshot \(snapshot.id) taken \(snapshot.takenAt.ISO8601Format())")
        let volumes = try context.environment.volumeImport()
        var imported: [ImportedVolume] = []
        for disk in snapshot.disks {
            let reader = try store.reader(snapshotID: snapshot.id, diskIndex: disk.diskIndex)
            let volume = try await volumes.importVolume(
                VolumeImportRequest(name: "\(serverID)-\(mode)-disk\(disk.diskIndex)", source: reader, tags: ["Name": "\(try inputs.string("name")) disk \(disk.diskIndex)"]),
                progress: nil
            )
            try context.created(CloudResource(kind: volume.kind, id: volume.id), detail: RecipeResourceDetail.json(["role": "\(mode)-volume", "snapshot": snapshot.id]))
            context.progress("imported disk \(disk.diskIndex) as \(volume.id)")
            imported.append(volume)
        }
        guard let root = imported.first else { throw RecipeInputError.invalid(name: "source_server_id", reason: "snapshot \(snapshot.id) has no disk") }
        let image = try await context.environment.images().registerImage(
            name: "\(serverID)-\(mode)-\(snapshot.id)", rootVolume: root, additionalVolumes: Array(imported.dropFirst()),
            bootMode: server.facts.bootMode ?? .legacyBIOS, tags: ["Name": "\(try inputs.string("name"))"]
        )
        try context.created(CloudResource(kind: .image, id: image.id), detail: RecipeResourceDetail.json(["role": "\(mode)-image"]))
        let name = try inputs.string("name")
        let subnet = try inputs.string("subnet_id")
        var settings = server.launchSettings
        settings.instanceType = try inputs.string("instance_type")
        settings.subnetID = subnet
        settings.securityGroupIDs = inputs.strings("security_group_ids")
        settings.tags["Name"] = name
        let compute = try context.environment.compute()
        let instance = try await compute.launchInstance(imageID: image.id, settings: settings, userData: nil, name: name)
        try context.created(CloudResource(kind: .instance, id: instance.id), detail: RecipeResourceDetail.json(["name": name, "subnet": subnet, "role": mode]))
        context.progress("\(mode) instance \(instance.id) launched")
        // An empty url (and why) when the target offers no endpoint reachable from here.
        let endpoint = try await InstanceURL.find(compute: compute, instanceID: instance.id, port: 80, context: context)
        return [
            "instance_id": .string(instance.id), "image_id": .string(image.id), "snapshot_id": .string(snapshot.id),
            "url": .string(endpoint.url), "private_ip": .string(instance.privateIPAddress ?? ""),
            "no_endpoint_reason": .string(endpoint.noEndpointReason),
        ]
    }
}
