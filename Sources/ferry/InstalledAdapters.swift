import FerryCore
import FerryKit
import Foundation
import Logging

/// The adapters a command sees: the built-ins, then the external adapters found on the
/// plugin search path (`FERRY_PLUGIN_PATH`, the workspace's `plugins/`, `PATH`).
struct InstalledAdapters {
    var registry: AdapterRegistry
    var plugins: PluginInventory
    /// The names of the plugins found on the path and not started, for errors.
    var notStarted: [String]

    /// Where plugins' restarts are told: stderr, so that `--output json` stays clean.
    static let pluginLogger = Logger(label: "ferry.plugins", factory: { label in StreamLogHandler.standardError(label: label) })

    /// - Parameter names: when given, only plugins of these names are started. A command
    ///   that names its adapters must not pay for the others: each plugin on the path
    ///   costs a handshake, and a hanging one its whole deadline. `nil` starts them all
    ///   (`ferry adapters` lists every one).
    static func load(workspaceRoot: URL, only names: Set<String>? = nil) throws -> InstalledAdapters {
        var registry = try BuiltInAdapters.registry(workspaceRoot: workspaceRoot)
        let found = PluginSearchPath.standard(workspaceRoot: workspaceRoot).candidates()
        let candidates = names.map { names in found.filter { names.contains($0.name) } } ?? found
        var notStarted: [String] = []
        for candidate in found where !candidates.contains(candidate) && !notStarted.contains(candidate.name) { notStarted.append(candidate.name) }
        let plugins = PluginInventory.load(candidates, into: &registry, logger: pluginLogger)
        return InstalledAdapters(registry: registry, plugins: plugins, notStarted: notStarted)
    }

    /// Built-ins and the working plugins among `names` (all of them when `nil`), for
    /// commands that use several adapters (recipes).
    static func registry(workspaceRoot: URL, only names: Set<String>?) throws -> AdapterRegistry {
        try load(workspaceRoot: workspaceRoot, only: names).registry
    }

    /// The source adapter `name`, starting no other plugin.
    static func source(named name: String, workspaceRoot: URL) throws -> any SourceAdapter {
        let installed = try load(workspaceRoot: workspaceRoot, only: [name])
        _ = try installed.adapter(named: name)
        return try installed.registry.source(named: name)
    }

    /// The adapter `name`, or why there is none: a plugin of that name that is broken says
    /// why (with the end of its stderr), and an unknown name lists every adapter there is,
    /// the plugins that were not started included.
    func adapter(named name: String) throws -> any Adapter {
        if let adapter = try? registry.adapter(named: name) { return adapter }
        if let broken = plugins.broken.first(where: { $0.name == name }) { throw BrokenPluginError(plugin: broken) }
        throw AdapterError.notFound(name: name, known: registry.descriptors.map(\.name) + notStarted)
    }

    /// The executable behind `name`, when it is an external adapter.
    func pluginPath(of name: String) -> String? {
        plugins.loaded[name]?.path
    }
}
