import FerryCore
/// After a successful test: the test instance is terminated and the server is marked ready
/// for cutover, as the console does.
struct MarkReadyForCutoverAction: RecipeAction {
    init() {}

    let name = "migration.mark-ready-for-cutover"
    let summary = "Terminate the test instance and mark the server ready for cutover"
    let inputs = [
        RecipeActionInput("source_server_id", .string, help: "the source server"),
        RecipeActionInput("test_instance_id", .string, default: .string(""), help: "the test instance to terminate"),
    ]
    let outputs = ["lifecycle"]
    let requiredCapabilities: [Capability] = [.compute]

    func plan(_ inputs: RecipeInputs) -> [String] { ["terminate test instance \(inputs.optionalString("test_instance_id") ?? "")", "mark \(inputs.optionalString("source_server_id") ?? "?") READY_FOR_CUTOVER"] }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let server = try await context.migration.markReadyForCutover(sourceServerID: try inputs.string("source_server_id"),
                                                                     testInstanceID: inputs.optionalString("test_instance_id"))
        return ["lifecycle": .string(server.lifecycleState.rawValue)]
    }
}
