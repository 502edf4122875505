import FerryCore
import Foundation

/// Where recipes are found: a path given directly, or NAME.yaml in the recipe folders
/// (`$FERRY_RECIPES`, then ./recipes).
public struct RecipeCatalog: Sendable {
    public let folders: [URL]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, currentDirectory: String = FileManager.default.currentDirectoryPath) {
        var folders: [URL] = []
        if let configured = environment["FERRY_RECIPES"] {
            folders += configured.split(separator: ":").map { URL(fileURLWithPath: String($0), isDirectory: true) }
        }
        folders.append(URL(fileURLWithPath: currentDirectory, isDirectory: true).appendingPathComponent("recipes", isDirectory: true))
        self.folders = folders
    }

    public func file(for name: String) throws -> String {
        if name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.contains("/") {
            guard FileManager.default.fileExists(atPath: name) else { throw RecipeError.notFound(name: name, searched: [name]) }
            return name
        }
        for folder in folders {
            for ext in ["yaml", "yml"] {
                let candidate = folder.appendingPathComponent("\(name).\(ext)").path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
            }
        }
        throw RecipeError.notFound(name: name, searched: folders.map(\.path))
    }

    /// Every recipe file in the folders, by name.
    public func all() -> [(name: String, file: String)] {
        var seen = Set<String>()
        var result: [(String, String)] = []
        for folder in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for file in names.sorted() where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                let name = String(file.split(separator: ".").first ?? "")
                if seen.insert(name).inserted { result.append((name, folder.appendingPathComponent(file).path)) }
            }
        }
        return result
    }
}
