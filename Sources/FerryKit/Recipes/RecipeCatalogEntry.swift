/// Where a recipe comes from.
public enum RecipeOrigin: Sendable, Hashable {
    /// Embedded in Ferry (recipes/ of its repository).
    case builtIn
    /// A file: given as a path, or found in a local recipe folder.
    case local(file: String)
}

/// One recipe of `RecipeCatalog.all()`.
public struct RecipeCatalogEntry: Sendable, Hashable {
    public var name: String
    public var origin: RecipeOrigin
    /// A local recipe with a built-in recipe's name: this one is used.
    public var overridesBuiltIn = false
    /// A built-in recipe that a local file of its name overrides: that file.
    public var overriddenBy: String?

    /// The local file, nil for a built-in recipe.
    public var file: String? {
        if case .local(let file) = origin { return file }
        return nil
    }

    /// Where it comes from, for people: the file, or "built-in", with the override said.
    public var source: String {
        switch origin {
        case .local(let file): return overridesBuiltIn ? "\(file) (overrides the built-in)" : file
        case .builtIn: return overriddenBy.map { "built-in, overridden by \($0)" } ?? "built-in"
        }
    }
}
