import FerryKit
import Foundation

/// The adapters a command sees: the built-ins, then the external adapters found on the
/// plugin search path (`FERRY_PLUGIN_PATH`, the workspace's `plugins/`, `PATH`).
struct InstalledAdapters {
    var registry: AdapterRegistry
    var plugins: PluginInventory

    static func load(workspaceRoot: URL) throws -> InstalledAdapters {
        var registry = try BuiltInAdapters.registry(workspaceRoot: workspaceRoot)
        let candidates = PluginSearchPath.standard(workspaceRoot: workspaceRoot).candidates()
        let plugins = PluginInventory.load(candidates, into: &registry)
        return InstalledAdapters(registry: registry, plugins: plugins)
    }

    /// Built-ins and working plugins, for commands that use adapters.
    static func registry(workspaceRoot: URL) throws -> AdapterRegistry {
        try load(workspaceRoot: workspaceRoot).registry
    }

    /// The executable behind `name`, when it is an external adapter.
    func pluginPath(of name: String) -> String? {
        plugins.loaded[name]?.path
    }
}
