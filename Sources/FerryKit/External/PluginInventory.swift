import FerryCore
import Foundation
import Logging
import Synchronization

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
    /// failure becomes a broken entry. The handshakes run side by side, so that one slow
    /// plugin costs its own deadline and not the sum of all of them.
    public static func load(_ candidates: [PluginCandidate], into registry: inout AdapterRegistry, timeouts: PluginTimeouts = .fromEnvironment(),
                            restartPolicy: PluginRestartPolicy = PluginRestartPolicy(), logger: Logger = Logger(label: "ferry.plugins")) -> PluginInventory {
        // First, which candidates may be loaded at all: the first executable of a name owns
        // it (even when it turns out broken), and built-ins cannot be shadowed.
        var refusals: [Int: String] = [:]
        var claimed: [String: String] = [:]
        for (index, candidate) in candidates.enumerated() {
            if let first = claimed[candidate.name] {
                refusals[index] = "the name '\(candidate.name)' is already taken by \(first)"
            } else if (try? registry.adapter(named: candidate.name)) != nil {
                refusals[index] = "the name '\(candidate.name)' is already taken by a built-in adapter"
            } else if !AdapterNames.isValid(candidate.name) {
                refusals[index] = "'\(candidate.name)' is not a valid adapter name (lowercase letters, digits and dashes, starting with a letter)"
            }
            if claimed[candidate.name] == nil { claimed[candidate.name] = candidate.path }
        }
        let handshakes = Handshakes(count: candidates.count)
        let refused = Set(refusals.keys)
        DispatchQueue.concurrentPerform(iterations: candidates.count) { index in
            guard !refused.contains(index) else { return }
            let candidate = candidates[index]
            handshakes.set(index, Result { () throws(PluginError) in try ExternalPlugin.load(path: candidate.path, name: candidate.name, timeouts: timeouts, restartPolicy: restartPolicy, logger: logger) })
        }
        var inventory = PluginInventory()
        for (index, candidate) in candidates.enumerated() {
            do {
                if let refusal = refusals[index] { throw PluginLoadRefusal(reason: refusal) }
                guard let plugin = try handshakes.result(index)?.get() else { continue }
                try registry.register(plugin.adapter)
                inventory.loaded[candidate.name] = plugin
            } catch {
                // With the end of its stderr: a plugin that fails its handshake often says why there.
                let reason = (error as? PluginError)?.explanation ?? (error as? PluginLoadRefusal)?.reason ?? String(describing: error)
                inventory.broken.append(BrokenPlugin(name: candidate.name, path: candidate.path, reason: reason))
            }
        }
        return inventory
    }
}

private struct PluginLoadRefusal: Error {
    var reason: String
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

/// The handshakes' results, filled in from several threads.
private final class Handshakes: Sendable {
    private let results: Mutex<[Result<ExternalPlugin, PluginError>?]>

    init(count: Int) { results = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ result: Result<ExternalPlugin, PluginError>) { results.withLock { $0[index] = result } }
    func result(_ index: Int) -> Result<ExternalPlugin, PluginError>? { results.withLock { $0[index] } }
}
