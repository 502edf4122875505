import ArgumentParser
import FerryCore
import FerryKit

struct RecipeListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the recipes (./recipes and $FERRY_RECIPES).")

    @OptionGroup var global: GlobalOptions

    struct Listing: Encodable {
        var name: String
        var title: String
        var file: String
        var steps: Int
        var problem: String?
    }

    func run() throws {
        let listings = RecipeCatalog().all().map { entry -> Listing in
            do {
                let recipe = try RecipeLoader.load(file: entry.file)
                try RecipeValidator(actions: .builtIn).validate(recipe)
                return Listing(name: recipe.name, title: recipe.title, file: entry.file, steps: recipe.steps.count)
            } catch {
                return Listing(name: entry.name, title: "", file: entry.file, steps: 0, problem: "\(error)")
            }
        }
        switch global.output {
        case .json: try Output.json(listings)
        case .text:
            if listings.isEmpty { print("No recipes found in \(RecipeCatalog().folders.map(\.path).joined(separator: ", "))") }
            Output.table(["NAME", "STEPS", "TITLE"], listings.map { [$0.name, String($0.steps), $0.problem.map { "INVALID: \($0.split(separator: "\n").first ?? "")" } ?? $0.title] })
        }
    }
}
