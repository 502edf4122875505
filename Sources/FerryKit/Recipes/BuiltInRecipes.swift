import Crypto
import FerryCore
import Foundation

/// The recipes that ship with Ferry: the files of recipes/, embedded in the binary at build
/// time (Recipes/BuiltIn links to that folder), so that an installed `ferry` runs them from
/// any folder, without the repository.
public enum BuiltInRecipes {
    /// Every file of recipes/ by file name: the recipes and the files their steps name
    /// (`user_data_file: wordpress-user-data.sh`). A file added to recipes/ is listed here
    /// too; a test checks that the two agree.
    static let files: [String: [UInt8]] = [
        "migration-networks.yaml": PackageResources.migration_networks_yaml,
        "vmware-migration.yaml": PackageResources.vmware_migration_yaml,
        "workshop.yaml": PackageResources.workshop_yaml,
        "wordpress-user-data.sh": PackageResources.wordpress_user_data_sh,
    ]

    /// The file names, sorted.
    static var fileNames: [String] { files.keys.sorted() }

    /// The recipes' names (their files without `.yaml`), sorted.
    static var names: [String] {
        fileNames.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(".yaml".count)) }
    }

    /// The text of the built-in file `name` (`workshop.yaml`), or nil.
    static func text(of name: String) -> String? {
        files[name].map { String(decoding: $0, as: UTF8.self) }
    }

    /// The WordPress-like blog the workshop launches: a first-boot script for a sandbox
    /// instance (busybox httpd on port 80, posts written by a CGI script onto the
    /// instance's own disk). The workshop names the file; `ferry sandbox launch --wordpress`
    /// uses the same text.
    public static var wordPressUserData: String { text(of: "wordpress-user-data.sh") ?? "" }

    /// A label that stands for a built-in file where a path is expected (in messages).
    static func label(of fileName: String) -> String { "(built-in) \(fileName)" }

    /// The built-in recipe `name`, read from the embedded text; its `file` is a label, not a
    /// path. Nil when there is no such built-in recipe.
    static func recipe(named name: String) throws -> Recipe? {
        guard let yaml = text(of: "\(name).yaml") else { return nil }
        return try RecipeLoader.parse(yaml: yaml, file: label(of: "\(name).yaml"))
    }

    /// Writes every built-in file into `<workspace>/recipes/built-in-<digest>/` (once per
    /// content) and returns that folder. A run records its recipe's path and resolves the
    /// files its steps name against the recipe's folder; the copy lives in the workspace,
    /// so that a resume or a destroy reads the recipe the run started with, even after
    /// Ferry has been upgraded.
    static func writeFiles(into workspace: Workspace) throws -> URL {
        var hash = SHA256()
        for name in fileNames {
            hash.update(data: Data(name.utf8))
            hash.update(data: Data([0]))
            hash.update(data: Data(files[name] ?? []))
        }
        let digest = hash.finalize().map { String(format: "%02x", $0) }.joined().prefix(12)
        let folder = workspace.root.appendingPathComponent("recipes/built-in-\(digest)", isDirectory: true)
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in fileNames {
            let url = folder.appendingPathComponent(name)
            let bytes = Data(files[name] ?? [])
            if fileManager.contents(atPath: url.path) != bytes { try bytes.write(to: url, options: .atomic) }
        }
        return folder
    }
}
