import FerryCore
import Foundation

/// Writes the files of a new external adapter: an executable `ferry-adapter-NAME` speaking the
/// plugin protocol (docs/plugin-protocol.md), in Python or Swift, behind
/// `ferry adapter new NAME --kind source --lang python|swift`.
///
/// The scaffold is a complete source adapter for raw disk images (option `path`; one disk,
/// "disk0"; holes found with SEEK_DATA/SEEK_HOLE; reads with pread), so it passes
/// `ferry adapter test` as generated. `TODO:` comments mark where a team plugs in its own
/// format and discovery.
public struct AdapterScaffold: Sendable {
    public enum Language: String, CaseIterable, Sendable {
        case python
        case swift
    }

    /// The adapter's name: `[a-z][a-z0-9-]*`, the NAME in `ferry-adapter-NAME`.
    var name: String
    /// Only `.source`: there is no target scaffold yet.
    var kind: AdapterKind
    var language: Language

    public init(name: String, kind: AdapterKind, language: Language) throws {
        guard AdapterNames.isValid(name) else { throw AdapterScaffoldError.invalidName(name) }
        guard kind == .source else { throw AdapterScaffoldError.unsupportedKind(kind) }
        self.name = name
        self.kind = kind
        self.language = language
    }

    /// The name of the executable Ferry looks for.
    public var executableName: String { PluginProtocol.executablePrefix + name }

    /// Where the executable `ferry-adapter-NAME` ends up once built, relative to the directory
    /// the scaffold was written to.
    public var executablePath: String {
        switch language {
        case .python: return executableName
        case .swift: return ".build/release/\(executableName)"
        }
    }

    /// The command that builds the executable, run in the scaffold's directory; nil when there
    /// is nothing to build (Python).
    public var buildCommand: String? {
        switch language {
        case .python: return nil
        case .swift: return "swift build -c release"
        }
    }

    /// One file of the scaffold: its path relative to the scaffold's directory and its text.
    struct File: Sendable, Equatable {
        var path: String
        var contents: String
        var isExecutable = false
    }

    /// The files `write(to:)` writes, in order.
    var files: [File] {
        func fill(_ template: String) -> String { template.replacingOccurrences(of: "__NAME__", with: name) }
        switch language {
        case .python:
            return [
                File(path: executableName, contents: fill(AdapterScaffoldTemplates.pythonAdapter), isExecutable: true),
                // Beside the adapter, which imports it: the scaffold works wherever it is copied.
                File(path: PythonPluginFraming.fileName, contents: PythonPluginFraming.source),
                File(path: "README.md", contents: fill(AdapterScaffoldTemplates.pythonReadme)),
            ]
        case .swift:
            return [
                File(path: "Package.swift", contents: fill(AdapterScaffoldTemplates.swiftPackage)),
                File(path: "Sources/\(executableName)/main.swift", contents: fill(AdapterScaffoldTemplates.swiftAdapter)),
                File(path: "README.md", contents: fill(AdapterScaffoldTemplates.swiftReadme)),
                File(path: ".gitignore", contents: fill(AdapterScaffoldTemplates.swiftGitignore)),
            ]
        }
    }

    /// Writes into `directory` (created; refuses if it exists and is not empty) and returns the
    /// written files' paths, relative.
    @discardableResult
    public func write(to directory: URL) throws -> [String] {
        let fileManager = FileManager.default
        let directoryPath = directory.path
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: directoryPath, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw AdapterScaffoldError.notADirectory(directoryPath) }
            let contents = try fileManager.contentsOfDirectory(atPath: directoryPath)
            guard contents.isEmpty else {
                throw AdapterScaffoldError.directoryNotEmpty(directoryPath, contents: contents.sorted())
            }
        }
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for file in files {
            let url = directory.appendingPathComponent(file.path)
            try fileManager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: url)
            if file.isExecutable {
                try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
            }
            written.append(file.path)
        }
        return written
    }
}

/// Why a scaffold cannot be made or written.
public enum AdapterScaffoldError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case invalidName(String)
    case unsupportedKind(AdapterKind)
    case notADirectory(String)
    case directoryNotEmpty(String, contents: [String])

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "'\(name)' is not a valid adapter name: it must start with a lowercase letter and contain only "
                + "lowercase letters, digits and '-' (it becomes the executable ferry-adapter-NAME)"
        case .unsupportedKind(let kind):
            return "\(kind.rawValue) adapter scaffolds are not available yet (only --kind source); a \(kind.rawValue) "
                + "plugin implements the methods of its capabilities as described under \"Target methods\" in "
                + "docs/plugin-protocol.md"
        case .notADirectory(let path):
            return "\(path) exists and is not a directory"
        case .directoryNotEmpty(let path, let contents):
            let shown = contents.prefix(5).joined(separator: ", ") + (contents.count > 5 ? ", ..." : "")
            return "\(path) already exists and is not empty (\(shown)); choose a new or empty directory"
        }
    }

    public var errorDescription: String? { description }
}
