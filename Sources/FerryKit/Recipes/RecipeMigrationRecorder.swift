import FerryCore

/// A recipe step's record of what a migration creates: resources go into the run, so that
/// `recipe destroy` removes them; progress goes to the console.
struct RecipeMigrationRecorder: MigrationRecorder {
    let context: RecipeContext

    func created(_ resource: CloudResource, role: MigrationResourceRole, attributes: [String: String]) throws {
        let recorded: RecipeResourceRole = switch role {
        case .testVolume: .testVolume
        case .cutoverVolume: .cutoverVolume
        case .testImage: .testImage
        case .cutoverImage: .cutoverImage
        case .testInstance: .test
        case .cutoverInstance: .cutover
        case .converter: .converter
        }
        try context.created(resource, detail: RecipeResourceDetail.json(attributes.merging([RecipeResourceRole.detailKey: recorded.rawValue]) { $1 }))
    }

    func removed(_ resource: CloudResource) throws {
        try context.destroyedRecorded(resource)
    }

    func progress(_ text: String) {
        context.progress(text)
    }

    func progress(en: String, ja: String) {
        context.progress(context.say(en: en, ja: ja))
    }
}

extension RecipeContext {
    /// The migration service acting on this step's environment, recording into this run.
    var migration: MigrationService {
        MigrationService(workspace: workspace, target: MigrationTarget(adapterName: environment.adapterName, registry: environment.registry),
                         recorder: RecipeMigrationRecorder(context: self))
    }
}
