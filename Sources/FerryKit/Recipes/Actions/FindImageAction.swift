import FerryCore
/// Finds an image by name, or by the guest profile it was built from (the sandbox tags its
/// profile images `ferry:profile`): the sandbox's guest images, or an AMI a consultant names.
struct FindImageAction: RecipeAction {
    init() {}

    let name = "image.find"
    let summary = "Find an image by name"
    let inputs = [RecipeActionInput("name", .string, help: "the image's name")]
    let outputs = ["image_id"]
    let requiredCapabilities: [Capability] = [.images]

    func plan(_ inputs: RecipeInputs) -> [String] { ["look up image \(inputs.optionalString("name") ?? "?")"] }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let name = try inputs.string("name")
        let images = try await context.environment.images().describeImages()
        guard let image = images.last(where: { $0.name == name }) ?? images.last(where: { $0.tags["ferry:profile"] == name }) else {
            let known = images.map(\.name).joined(separator: ", ")
            throw RecipeInputError.invalid(name: "name", reason: "no image named '\(name)' on \(context.environment.adapterName) (images: \(known.isEmpty ? "none" : known)); on the sandbox, `ferry sandbox image build --profile PROFILE` makes a guest profile's image")
        }
        context.progress(context.say(en: "image \(name): \(image.id)", ja: "イメージ \(name): \(image.id)"))
        return ["image_id": .string(image.id)]
    }
}
