import FerryCore
import Foundation

/// A test or cutover launch: a job of the migration service (select snapshot → inspect →
/// import and convert → register → launch → verify), recorded in this run.
struct LaunchFromSnapshotAction: RecipeAction {
    init() {}

    let name = "migration.launch"
    let summary = "Launch a test or cutover instance from the latest snapshot"
    let inputs = [
        RecipeActionInput("source_server_id", .string, help: "the source server"),
        RecipeActionInput("mode", .string, help: "test or cutover"),
        RecipeActionInput("name", .string, help: "the instance's Name tag"),
        RecipeActionInput("subnet_id", .string, help: "the target subnet"),
        RecipeActionInput("security_group_ids", .list, default: .list([]), help: "security groups"),
        RecipeActionInput("instance_type", .string, default: .string("t3.small"), help: "the instance type"),
        RecipeActionInput("snapshot_id", .string, default: .string(""), help: "a snapshot to launch from (default: the latest)"),
        RecipeActionInput("point_in_time", .string, default: .string(""), help: "an ISO 8601 time: launch from the newest point in time taken at or before it (default: the latest)"),
        RecipeActionInput("convert", .boolean, default: .boolean(true), help: "convert the machine to boot on the target (false: launch the disks as they were replicated)"),
        RecipeActionInput("convert_reason", .string, default: .string(""), help: "why conversion is off, for the job's record (the Conversion step's convert_reason)"),
        RecipeActionInput("staging_subnet_id", .string, default: .string(""), help: "where the target's converter instance runs (the staging subnet)"),
    ]
    let outputs = ["instance_id", "image_id", "snapshot_id", "url", "private_ip", "no_endpoint_reason", "job_id", "conversion", "conversion_changes"]
    let requiredCapabilities: [Capability] = [.volumeImport, .images, .compute]

    func plan(_ inputs: RecipeInputs) -> [String] {
        let mode = inputs.optionalString("mode") ?? "?"
        return ["inspect a copy of the latest snapshot of \(inputs.optionalString("source_server_id") ?? "?") and import it as a volume",
                !Self.convert(inputs) ? "launch it as it was replicated (no conversion)" : "convert it to boot on the target (the Machine Converter)",
                "register an image from it",
                "launch the \(mode) instance \(inputs.optionalString("name") ?? "?") in \(inputs.optionalString("subnet_id") ?? "?")"]
    }

    /// `convert`, a boolean, or the text of one when a parameter was interpolated into it.
    static func convert(_ inputs: RecipeInputs) -> Bool {
        if let flag = inputs["convert"]?.boolean { return flag }
        return !["false", "no", "0", "off"].contains((inputs.optionalString("convert") ?? "").lowercased())
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let modeText = try inputs.string("mode")
        guard let mode = LaunchMode(rawValue: modeText) else { throw RecipeInputError.invalid(name: "mode", reason: "must be test or cutover, not '\(modeText)'") }
        let requested = inputs.optionalString("snapshot_id") ?? ""
        let pointText = inputs.optionalString("point_in_time") ?? ""
        let pointInTime = pointText.isEmpty ? nil : RecipeTime.parse(pointText)
        if !pointText.isEmpty, pointInTime == nil { throw RecipeInputError.invalid(name: "point_in_time", reason: "'\(pointText)' is not an ISO 8601 time") }
        if !pointText.isEmpty, !requested.isEmpty { throw RecipeInputError.invalid(name: "point_in_time", reason: "give a snapshot_id or a point_in_time, not both") }
        let result = try await context.migration.launch(LaunchRequest(
            sourceServerID: try inputs.string("source_server_id"), mode: mode, snapshotID: requested.isEmpty ? nil : requested,
            name: try inputs.string("name"), subnetID: try inputs.string("subnet_id"),
            securityGroupIDs: inputs.strings("security_group_ids"), instanceType: try inputs.string("instance_type"),
            convert: Self.convert(inputs), skipReason: (inputs.optionalString("convert_reason") ?? "").isEmpty ? nil : inputs.optionalString("convert_reason"),
            stagingSubnetID: (inputs.optionalString("staging_subnet_id") ?? "").isEmpty ? nil : inputs.optionalString("staging_subnet_id"),
            pointInTime: pointInTime
        ), initiatedBy: "recipe run \(context.runID), step \(context.stepID)")
        return [
            "instance_id": .string(result.instance.id), "image_id": .string(result.imageID), "snapshot_id": .string(result.snapshotID),
            "url": .string(result.url), "private_ip": .string(result.instance.privateIPAddress ?? ""),
            "no_endpoint_reason": .string(result.noEndpointReason), "job_id": .string(result.jobID),
            "conversion": .string(result.conversion.headline.en), "conversion_changes": .string(String(result.conversion.report?.changes.count ?? 0)),
        ]
    }
}
