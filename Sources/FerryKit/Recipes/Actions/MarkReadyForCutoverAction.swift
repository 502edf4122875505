import FerryCore
/// After a successful test: the test instance is terminated, the image and volumes its launch
/// made are removed, and the server is marked ready for cutover, as the console does.
struct MarkReadyForCutoverAction: RecipeAction {
    init() {}

    let name = "migration.mark-ready-for-cutover"
    let summary = "Terminate the test instance, remove its image and volumes, and mark the server ready for cutover"
    let inputs = [
        RecipeActionInput("source_server_id", .string, help: "the source server"),
        RecipeActionInput("test_instance_id", .string, default: .string(""), help: "the test instance to terminate"),
    ]
    let outputs = ["lifecycle"]
    let requiredCapabilities: [Capability] = [.compute, .images, .volumeImport]

    func plan(_ inputs: RecipeInputs) -> [String] { ["terminate test instance \(inputs.optionalString("test_instance_id") ?? "")", "remove the test launch's image and volumes", "mark \(inputs.optionalString("source_server_id") ?? "?") READY_FOR_CUTOVER"] }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let testInstanceID = inputs.optionalString("test_instance_id") ?? ""
        let server = try await context.migration.markReadyForCutover(sourceServerID: try inputs.string("source_server_id"), testInstanceID: testInstanceID,
                                                                     testLaunchResources: try testLaunchResources(of: testInstanceID, context: context))
        return ["lifecycle": .string(server.lifecycleState.rawValue)]
    }

    /// The image and volumes the launch of `instanceID` recorded in this run and that are
    /// still there: those of the step that recorded the instance, by their recorded role, so
    /// that another server's test launch in the same run keeps its own.
    func testLaunchResources(of instanceID: String, context: RecipeContext) throws -> [CloudResource] {
        guard !instanceID.isEmpty else { return [] }
        let records = try context.store.run(context.runID).resources
        guard let launch = records.first(where: { $0.resource == CloudResource(kind: .instance, id: instanceID) }) else { return [] }
        let roles: Set<String> = [RecipeResourceRole.testImage.rawValue, RecipeResourceRole.testVolume.rawValue]
        return records.filter { record in
            record.stepID == launch.stepID && record.destroyedAt == nil
                && ArchitectureDiagram.attributes(record)[RecipeResourceRole.detailKey].map(roles.contains) == true
        }.map(\.resource)
    }
}
