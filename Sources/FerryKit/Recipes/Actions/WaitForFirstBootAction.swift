import FerryCore
import Foundation

/// Waits for an instance's first boot, as the launch job's last stage: the guest says it
/// booted (where the target can observe it; a cloud without console access says UNKNOWN,
/// and the step says so rather than pretending).
struct WaitForFirstBootAction: RecipeAction {
    init() {}

    let name = "instance.wait-first-boot"
    let summary = "Wait until an instance reports its first boot"
    let inputs = [
        RecipeActionInput("instance_id", .string, help: "the instance"),
        RecipeActionInput("timeout_seconds", .integer, default: .integer(300), help: "how long to wait"),
    ]
    let outputs = ["first_boot", "seconds"]
    let requiredCapabilities: [Capability] = [.compute]

    func plan(_ inputs: RecipeInputs) -> [String] { ["wait for \(inputs.optionalString("instance_id") ?? "?") to boot"] }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let id = try inputs.string("instance_id")
        let compute = try context.environment.compute()
        let started = Date()
        let deadline = started.addingTimeInterval(TimeInterval(try inputs.integer("timeout_seconds")))
        while Date() < deadline {
            try await InstanceBootWatch.failIfCannotBoot(compute as? any BootObserving, instanceID: id)
            let status = try await compute.firstBootStatus(id: id)
            let seconds = Int(Date().timeIntervalSince(started).rounded())
            switch status {
            case .succeeded:
                context.progress("\(id) booted (\(seconds) s)")
                return ["first_boot": .string(status.rawValue), "seconds": .integer(seconds)]
            case .unknown:
                context.progress("\(id): \(context.environment.adapterName) cannot observe the guest's boot; not checked")
                return ["first_boot": .string(status.rawValue), "seconds": .integer(seconds)]
            case .failed:
                throw RecipeInputError.invalid(name: "instance_id", reason: "\(id) reported a failed first boot")
            case .pending:
                try await Task.sleep(for: .seconds(1))
            }
        }
        throw RecipeInputError.invalid(name: "instance_id", reason: "\(id) did not report its first boot within the timeout")
    }
}
