import FerryCore
import FerryKit

/// A command named a plugin that was found but failed to load.
struct BrokenPluginError: Error, CustomStringConvertible {
    var plugin: BrokenPlugin

    var description: String {
        "adapter '\(plugin.name)' (\(plugin.path)) is broken and was not loaded: \(plugin.reason)"
    }
}
