import FerryCore
@testable import FerryKit
import Foundation
import Testing

/// The recipes built into ferry: the files of recipes/, found without the repository, and
/// overridden by a local recipe of the same name.
@Suite("built-in recipes")
struct BuiltInRecipesTests {
    static let recipesFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("recipes")

    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-builtin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func theEmbeddedFilesAreTheFilesOfTheRecipesFolder() throws {
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.recipesFolder.path).sorted()
        #expect(BuiltInRecipes.fileNames == onDisk)
        for name in onDisk {
            let bytes = try Data(contentsOf: Self.recipesFolder.appendingPathComponent(name))
            #expect(BuiltInRecipes.text(of: name).map { Data($0.utf8) } == bytes, "\(name) differs from its embedded copy")
        }
        #expect(BuiltInRecipes.names == ["migration-networks", "vmware-migration", "workshop"])
        #expect(BuiltInRecipes.wordPressUserData.hasPrefix("#!/bin/sh\n"))
    }

    @Test func aBuiltInRecipeIsFoundFromAFolderWithoutRecipes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = RecipeCatalog(environment: [:], currentDirectory: folder.path)
        #expect(try catalog.origin(of: "workshop") == .builtIn)
        let recipe = try catalog.recipe("workshop")
        #expect(recipe.name == "workshop")
        #expect(recipe.file == "(built-in) workshop.yaml")
        #expect(catalog.all().map(\.name) == ["migration-networks", "vmware-migration", "workshop"])
        #expect(catalog.all().allSatisfy { $0.origin == .builtIn && $0.source == "built-in" })
    }

    @Test func aRunOfABuiltInRecipeReadsItFromTheWorkspaceBesideTheFilesItsStepsName() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let workspace = try Workspace.create(at: folder.appendingPathComponent("ws"), ferryVersion: "test").workspace
        let catalog = RecipeCatalog(environment: [:], currentDirectory: folder.path)
        let recipe = try catalog.recipeForRun("workshop", in: workspace)
        #expect(recipe.file.hasPrefix(workspace.root.path + "/recipes/built-in-"))
        // The workshop's WordPress step names its user data as a file next to the recipe.
        let userData = URL(fileURLWithPath: recipe.file).deletingLastPathComponent().appendingPathComponent("wordpress-user-data.sh")
        #expect(try String(contentsOf: userData, encoding: .utf8) == BuiltInRecipes.wordPressUserData)
        #expect(BuiltInRecipes.text(of: "workshop.yaml")?.contains("user_data_file: wordpress-user-data.sh") == true)
        // A second run reads the same copy.
        #expect(try catalog.recipeForRun("workshop", in: workspace).file == recipe.file)
    }

    @Test func aLocalRecipeOfTheSameNameOverridesTheBuiltInOneAndComesFirst() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let local = folder.appendingPathComponent("mine", isDirectory: true)
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        let text = try #require(BuiltInRecipes.text(of: "migration-networks.yaml"))
        // The recipe's own title is a map by language now: its English entry is the one renamed.
        try text.replacingOccurrences(of: "title:\n  en: \"", with: "title:\n  en: \"Ours — ").write(to: local.appendingPathComponent("migration-networks.yaml"), atomically: true, encoding: .utf8)
        let catalog = RecipeCatalog(folders: ["mine"], environment: [:], currentDirectory: folder.path)
        let file = local.appendingPathComponent("migration-networks.yaml").path
        #expect(try catalog.origin(of: "migration-networks") == .local(file: file))
        #expect(try catalog.recipe("migration-networks").title.hasPrefix("Ours — "))
        let entries = catalog.all()
        #expect(entries.first == RecipeCatalogEntry(name: "migration-networks", origin: .local(file: file), overridesBuiltIn: true))
        #expect(entries.first?.source == "\(file) (overrides the built-in)")
        let shadowed = try #require(entries.first { $0.name == "migration-networks" && $0.origin == .builtIn })
        #expect(shadowed.source == "built-in, overridden by \(file)")
    }
}
