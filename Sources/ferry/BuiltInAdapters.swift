import AWSTarget
import FerryKit
import PhysicalSource
import SandboxTarget
import VMwareSource

/// The one place that names the built-in adapters.
enum BuiltInAdapters {
    static func registry() throws -> AdapterRegistry {
        var registry = AdapterRegistry()
        try registry.register(PhysicalSourceAdapter())
        try registry.register(VMwareSourceAdapter())
        try registry.register(AWSTargetAdapter())
        try registry.register(SandboxTargetAdapter())
        return registry
    }
}
