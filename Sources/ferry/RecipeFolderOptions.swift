import ArgumentParser
import FerryKit

/// Where the commands that name a recipe look for local ones, before the built-in recipes.
struct RecipeFolderOptions: ParsableArguments {
    @Option(name: .customLong("recipes"), help: ArgumentHelp(
        "A folder of local recipes, searched before $FERRY_RECIPES and ./recipes; repeat for more. "
            + "A local recipe overrides the built-in one of its name.", valueName: "folder"))
    var folders: [String] = []

    var catalog: RecipeCatalog { RecipeCatalog(folders: folders) }
}
