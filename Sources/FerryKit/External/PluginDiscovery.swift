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

/// A plugin that was found but not loaded, and why.
public struct BrokenPlugin: Codable, Hashable, Sendable {
    public var name: String
    public var path: String
    public var reason: String
}

/// What loading the plugins found: the external adapters now in the registry, by name, and
/// the broken ones.
public struct PluginInventory: Sendable {
    public var loaded: [String: ExternalPlugin] = [:]
    public var broken: [BrokenPlugin] = []

    public init() {}

    /// Asks each candidate to describe itself and registers the good ones as adapters, after
    /// the built-ins already in `registry`. Nothing a plugin does here can stop Ferry: every
    /// failure becomes a broken entry.
    public static func load(_ candidates: [PluginCandidate], into registry: inout AdapterRegistry, timeouts: PluginTimeouts = .fromEnvironment()) -> PluginInventory {
        var inventory = PluginInventory()
        // The first executable of a name owns it, even when it turns out broken.
        var claimed: [String: String] = [:]
        for candidate in candidates {
            func broken(_ reason: String) { inventory.broken.append(BrokenPlugin(name: candidate.name, path: candidate.path, reason: reason)) }
            if let first = claimed[candidate.name] {
                broken("the name '\(candidate.name)' is already taken by \(first)")
                continue
            }
            claimed[candidate.name] = candidate.path
            if (try? registry.adapter(named: candidate.name)) != nil {
                broken("the name '\(candidate.name)' is already taken by a built-in adapter")
                continue
            }
            guard AdapterNames.isValid(candidate.name) else {
                broken("'\(candidate.name)' is not a valid adapter name (lowercase letters, digits and dashes, starting with a letter)")
                continue
            }
            do {
                let plugin = try ExternalPlugin.load(path: candidate.path, name: candidate.name, timeouts: timeouts)
                try registry.register(plugin.adapter)
                inventory.loaded[candidate.name] = plugin
            } catch let error as PluginError {
                broken(error.reasonText)
            } catch {
                broken(String(describing: error))
            }
        }
        return inventory
    }
}

extension ExternalPlugin {
    /// The proxy adapter of this plugin's kind.
    public var adapter: any Adapter {
        switch descriptor.kind {
        case .source: return ExternalSourceAdapter(plugin: self)
        case .target: return ExternalTargetAdapter(plugin: self)
        }
    }
}
