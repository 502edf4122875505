import ArgumentParser
import FerryCore
import FerryKit

struct RecipeListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the recipes: the local ones (--recipes, $FERRY_RECIPES, ./recipes), then the built-in ones.",
        discussion: "A local recipe with a built-in recipe's name overrides it; the list says so."
    )

    @OptionGroup var recipes: RecipeFolderOptions

    @OptionGroup var global: GlobalOptions

    struct Listing: Encodable {
        var name: String
        var title: String
        /// "built-in" or "local".
        var origin: String
        /// The local file; nil for a built-in recipe.
        var file: String?
        /// Where it comes from, for people, with any override said.
        var source: String
        var overridesBuiltIn: Bool
        var overriddenBy: String?
        var steps: Int
        var problem: String?
    }

    func run() throws {
        let catalog = recipes.catalog
        let listings = catalog.all().map { entry -> Listing in
            var listing = Listing(name: entry.name, title: "", origin: entry.file == nil ? "built-in" : "local", file: entry.file,
                                  source: entry.source, overridesBuiltIn: entry.overridesBuiltIn, overriddenBy: entry.overriddenBy, steps: 0)
            do {
                let recipe = try catalog.recipe(of: entry)
                try RecipeValidator(actions: .builtIn).validate(recipe)
                listing.title = recipe.title
                listing.steps = recipe.steps.count
            } catch {
                listing.problem = "\(error)"
            }
            return listing
        }
        switch global.output {
        case .json: try Output.json(listings)
        case .text:
            Output.table(["NAME", "STEPS", "TITLE", "FROM"], listings.map {
                [$0.name, String($0.steps), $0.problem.map { "INVALID: \($0.split(separator: "\n").first ?? "")" } ?? $0.title, $0.source]
            })
        }
    }
}
