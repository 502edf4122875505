import FerryCore
import Foundation

/// Launches an instance from an image with user data (the workshop's WordPress server),
/// and reports where its HTTP port is reached from here — or, when the target offers no
/// endpoint reachable from here, an empty `url` and why in `no_endpoint_reason`.
struct LaunchInstanceAction: RecipeAction {
    init() {}

    let name = "workload.launch-instance"
    let summary = "Launch an instance from an image, with user data, in a subnet"
    let inputs = [
        RecipeActionInput("name", .string, help: "the instance's Name tag"),
        RecipeActionInput("image_id", .string, help: "the image to boot"),
        RecipeActionInput("subnet_id", .string, help: "the subnet to launch in"),
        RecipeActionInput("security_group_ids", .list, default: .list([]), help: "security groups"),
        RecipeActionInput("instance_type", .string, default: .string("t3.small"), help: "the instance type"),
        RecipeActionInput("user_data_file", .string, default: .string(""), help: "a file whose content is the instance's user data (relative to the recipe)"),
        RecipeActionInput("role", .string, default: .string(RecipeResourceRole.workload.rawValue), help: "what the instance is for, in diagrams (workload, test, cutover)"),
    ]
    let outputs = ["instance_id", "private_ip", "url", "no_endpoint_reason"]
    let requiredCapabilities: [Capability] = [.compute]

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["launch instance \(inputs.optionalString("name") ?? "?") (\(inputs.optionalString("instance_type") ?? "")) from \(inputs.optionalString("image_id") ?? "?") in \(inputs.optionalString("subnet_id") ?? "?")"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        var userData: String?
        if let file = inputs.optionalString("user_data_file"), !file.isEmpty {
            let recipeFolder = URL(fileURLWithPath: try context.recipeFile).deletingLastPathComponent()
            let url = URL(fileURLWithPath: file, relativeTo: recipeFolder)
            do {
                userData = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw RecipeInputError.invalid(name: "user_data_file", reason: "cannot read \(url.path): \(error.localizedDescription)")
            }
        }
        let name = try inputs.string("name")
        let subnet = try inputs.string("subnet_id")
        let settings = LaunchSettings(instanceType: try inputs.string("instance_type"), subnetID: subnet, securityGroupIDs: inputs.strings("security_group_ids"), tags: ["Name": name])
        let compute = try context.environment.compute()
        let instance = try await compute.launchInstance(imageID: try inputs.string("image_id"), settings: settings, userData: userData, name: name)
        try context.created(CloudResource(kind: .instance, id: instance.id),
                            detail: RecipeResourceDetail.json(["name": name, "subnet": subnet, RecipeResourceRole.detailKey: try inputs.string("role")]))
        context.progress(context.say(en: "instance \(name): \(instance.id) \(instance.privateIPAddress ?? "")",
                                     ja: "インスタンス \(name): \(instance.id) \(instance.privateIPAddress ?? "")"))
        let endpoint = try await InstanceURL.find(compute: compute, instanceID: instance.id, port: 80, context: context)
        return [
            "instance_id": .string(instance.id),
            "private_ip": .string(instance.privateIPAddress ?? ""),
            "url": .string(endpoint.url), "no_endpoint_reason": .string(endpoint.noEndpointReason),
        ]
    }
}

/// The URL of an instance's HTTP port as seen from here, for the launch actions. A target
/// that says the port cannot be reached from here (`NoReachableEndpoint`: a cloud instance
/// without a public address, an emulator's instances) gives an empty URL and the reason,
/// which `verify.http` then reports as a skipped check; any other error fails the step.
enum InstanceURL {
    static func find(compute: any ComputeCapability, instanceID: String, port: Int, context: RecipeContext) async throws -> (url: String, noEndpointReason: String) {
        do {
            let endpoint = try await compute.endpoint(instanceID: instanceID, port: port)
            return ("http://\(endpoint.host):\(endpoint.port)/", "")
        } catch let unreachable as NoReachableEndpoint {
            context.progress("\(unreachable); its HTTP checks will be skipped")
            return ("", unreachable.description)
        }
    }
}
