/// The scaffold's files, with `__NAME__` where the adapter's name goes. Each is a file in
/// Templates/ (so it can be read, run and diffed as what it is), embedded in the binary at
/// build time so that an installed `ferry` writes scaffolds without the repository.
enum AdapterScaffoldTemplates {
    /// ferry-adapter-NAME (Python 3, standard library only); imports `ferry_framing`.
    static let pythonAdapter = text(PackageResources.python_adapter_py)
    /// README.md of the Python scaffold.
    static let pythonReadme = text(PackageResources.python_README_md)
    /// Package.swift of the Swift scaffold: no dependencies, so it builds offline.
    static let swiftPackage = text(PackageResources.swift_Package_swift)
    /// Sources/ferry-adapter-NAME/main.swift.
    static let swiftAdapter = text(PackageResources.swift_main_swift)
    /// README.md of the Swift scaffold.
    static let swiftReadme = text(PackageResources.swift_README_md)
    /// .gitignore of the Swift scaffold (named without its dot in Templates/, as SwiftPM
    /// leaves hidden files out of resources).
    static let swiftGitignore = text(PackageResources.swift_gitignore)

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
