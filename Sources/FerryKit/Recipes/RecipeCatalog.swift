import FerryCore
import Foundation

/// Where recipes are found: a path given directly, else NAME.yaml in the local recipe
/// folders (those given, then `$FERRY_RECIPES`, then ./recipes), else the built-in recipe
/// NAME. A local recipe of a built-in's name overrides it, so that a team can adapt the
/// workshop without rebuilding Ferry.
public struct RecipeCatalog: Sendable {
    /// The local folders, searched in order.
    public let folders: [URL]

    /// - Parameter folders: folders to search before `$FERRY_RECIPES` and ./recipes
    ///   (`ferry recipe --recipes DIR`).
    public init(folders given: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: String = FileManager.default.currentDirectoryPath) {
        let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
        var paths = given
        if let configured = environment["FERRY_RECIPES"] { paths += configured.split(separator: ":").map(String.init) }
        paths.append("recipes")
        var folders: [URL] = []
        for path in paths {
            let folder = URL(fileURLWithPath: path, isDirectory: true, relativeTo: base).standardizedFileURL
            if !folders.contains(folder) { folders.append(folder) }
        }
        self.folders = folders
    }

    /// The recipe `name` (a name, or a path to a YAML file), read from where it comes from.
    /// A built-in recipe's `file` is a label; a run needs `recipeForRun(_:in:)`.
    public func recipe(_ name: String) throws -> Recipe {
        try load(name, from: origin(of: name))
    }

    /// The recipe `name` as a run records it: from a file, so that the run can be resumed
    /// and the files its steps name (relative to the recipe) are found. A built-in recipe
    /// is read from the copy of the built-in files in `workspace`.
    public func recipeForRun(_ name: String, in workspace: Workspace) throws -> Recipe {
        switch try origin(of: name) {
        case .local(let file): return try load(name, from: .local(file: file))
        case .builtIn:
            let folder = try BuiltInRecipes.writeFiles(into: workspace)
            return try RecipeLoader.load(file: folder.appendingPathComponent("\(name).yaml").path)
        }
    }

    /// Where the recipe `name` comes from, or `RecipeError.notFound`.
    public func origin(of name: String) throws -> RecipeOrigin {
        if Self.isPath(name) {
            guard FileManager.default.fileExists(atPath: name) else { throw RecipeError.notFound(name: name, searched: [name]) }
            return .local(file: name)
        }
        if let file = localFile(for: name) { return .local(file: file) }
        if BuiltInRecipes.names.contains(name) { return .builtIn }
        throw notFound(name)
    }

    /// Every recipe there is: the local ones first (by folder, then name), then the
    /// built-in ones. A built-in recipe that a local one overrides is listed too, marked.
    public func all() -> [RecipeCatalogEntry] {
        var local: [RecipeCatalogEntry] = []
        var seen = Set<String>()
        for folder in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for file in names.sorted() where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                let name = String(file.split(separator: ".").first ?? "")
                guard seen.insert(name).inserted else { continue }
                let overrides = BuiltInRecipes.names.contains(name)
                local.append(RecipeCatalogEntry(name: name, origin: .local(file: folder.appendingPathComponent(file).path), overridesBuiltIn: overrides))
            }
        }
        let builtIn = BuiltInRecipes.names.map { name in
            RecipeCatalogEntry(name: name, origin: .builtIn, overriddenBy: local.first { $0.name == name }?.file)
        }
        return local + builtIn
    }

    /// The entry's recipe, read from where it comes from.
    public func recipe(of entry: RecipeCatalogEntry) throws -> Recipe {
        try load(entry.name, from: entry.origin)
    }

    private func load(_ name: String, from origin: RecipeOrigin) throws -> Recipe {
        switch origin {
        case .local(let file):
            let recipe = try RecipeLoader.load(file: file)
            // Found by its file's name, a recipe must be called by it: a run records the
            // `name:`, and a name no file has could not be found again (to plan it, or to
            // tell which built-in recipe it overrides).
            if !Self.isPath(name), recipe.name != name {
                throw RecipeError.invalid(file: file, problems: [RecipeProblem(
                    location: RecipeLocation(file: file, line: 1, column: 1), field: "name",
                    message: "the recipe is named '\(recipe.name)' but its file is \(URL(fileURLWithPath: file).lastPathComponent): rename the file to \(recipe.name).yaml or set name: \(name)"
                )])
            }
            return recipe
        case .builtIn:
            guard let recipe = try BuiltInRecipes.recipe(named: name) else { throw notFound(name) }
            return recipe
        }
    }

    private func localFile(for name: String) -> String? {
        for folder in folders {
            for ext in ["yaml", "yml"] {
                let candidate = folder.appendingPathComponent("\(name).\(ext)").path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    private func notFound(_ name: String) -> RecipeError {
        RecipeError.notFound(name: name, searched: folders.map(\.path) + ["the built-in recipes (\(BuiltInRecipes.names.joined(separator: ", ")))"])
    }

    private static func isPath(_ name: String) -> Bool {
        name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.contains("/")
    }
}
