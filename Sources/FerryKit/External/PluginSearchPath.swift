import FerryCore
import Foundation

/// Where Ferry looks for `ferry-adapter-NAME` executables, in order: the directories of
/// `FERRY_PLUGIN_PATH`, the workspace's `plugins/` folder, then `PATH`. The first
/// executable of a name wins; later ones of the same name are reported as broken.
public struct PluginSearchPath: Sendable, Equatable {
    public var directories: [URL]

    public init(directories: [URL]) {
        self.directories = directories
    }

    public static func standard(workspaceRoot: URL, environment: [String: String] = ProcessInfo.processInfo.environment) -> PluginSearchPath {
        func split(_ value: String?) -> [URL] {
            (value ?? "").split(separator: ":").map { URL(fileURLWithPath: String($0), isDirectory: true) }
        }
        return PluginSearchPath(directories: split(environment["FERRY_PLUGIN_PATH"])
            + [workspaceRoot.appendingPathComponent("plugins", isDirectory: true)]
            + split(environment["PATH"]))
    }

    /// The plugin executables found, in search order, each file once.
    public func candidates() -> [PluginCandidate] {
        var seen: Set<String> = []  // resolved path and name: a link under another name is another plugin
        var found: [PluginCandidate] = []
        for directory in directories {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { continue }
            for entry in entries.sorted() where entry.hasPrefix(PluginProtocol.executablePrefix) {
                let path = directory.appendingPathComponent(entry).path
                let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue,
                      FileManager.default.isExecutableFile(atPath: resolved), seen.insert(resolved + "\u{0}" + entry).inserted else { continue }
                found.append(PluginCandidate(name: String(entry.dropFirst(PluginProtocol.executablePrefix.count)), path: path))
            }
        }
        return found
    }
}

/// An executable that looks like a plugin, not yet asked what it is.
public struct PluginCandidate: Hashable, Sendable {
    public var name: String
    public var path: String
}
