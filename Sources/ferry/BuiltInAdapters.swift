import AWSTarget
import FerryKit
import PhysicalSource
import SandboxTarget
import VMwareSource
import Foundation

/// The one place that names the built-in adapters.
enum BuiltInAdapters {
    /// - Parameter workspaceRoot: the workspace adapters that keep state use; it need not
    ///   exist yet (listing adapters works without one).
    static func registry(workspaceRoot: URL) throws -> AdapterRegistry {
        var registry = AdapterRegistry()
        try registry.register(PhysicalSourceAdapter())
        try registry.register(VMwareSourceAdapter())
        try registry.register(AWSTargetAdapter())
        try registry.register(SandboxTargetAdapter(workspaceRoot: workspaceRoot))
        return registry
    }
}
