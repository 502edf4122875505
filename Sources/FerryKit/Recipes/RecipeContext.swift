import FerryCore
import Foundation

/// What an action may use while it runs: the environment its step acts on (through
/// capabilities), the workspace, and the run's record of what it creates.
public struct RecipeContext: Sendable {
    public let runID: String
    public let stepID: String
    public let workspace: Workspace
    /// The environment the step acts on (`on: source` or `on: target`).
    public let environment: RecipeEnvironmentAccess
    public let source: RecipeEnvironmentAccess
    public let target: RecipeEnvironmentAccess
    public let language: String
    /// The folder of this run's files (diagrams, logs).
    public let runDirectory: URL
    let store: RecipeRunStore
    let report: @Sendable (String) -> Void

    /// Records a resource the moment it exists, so that `destroy` can remove it even if the
    /// run crashes right after.
    public func created(_ resource: CloudResource, in environment: RecipeEnvironment? = nil, detail: String = "") throws {
        try store.recordResource(run: runID, step: stepID, environment: environment ?? self.environment.role, resource: resource, detail: detail)
    }

    /// Marks a resource this run created as removed by the step itself (a test instance
    /// terminated on the way to cutover), so that destroy does not look for it again.
    public func destroyedRecorded(_ resource: CloudResource) throws {
        for record in try store.run(runID).resources where record.resource == resource && record.destroyedAt == nil {
            try store.markDestroyed(sequence: record.sequence)
        }
    }

    /// A secret of this run (made on first use), kept in the run's folder and never shown.
    public func secret(_ name: String) throws -> Secret {
        try RecipeRunSecrets(runDirectory: runDirectory).secret(named: name)
    }

    /// A line of progress for the person watching.
    public func progress(_ text: String) { report(text) }

    /// The recipe file of this run: actions resolve relative paths against its folder.
    public var recipeFile: String { get throws { try store.run(runID).recipeFile } }

    /// Outputs of earlier steps of this run.
    public func outputs(of step: String) throws -> [String: RecipeValue] {
        try store.run(runID).step(step)?.outputs ?? [:]
    }
}

/// One environment of a run (source or target): an adapter reached through its capabilities.
public struct RecipeEnvironmentAccess: Sendable {
    public let role: RecipeEnvironment
    public let adapterName: String
    public let registry: AdapterRegistry

    public init(role: RecipeEnvironment, adapterName: String, registry: AdapterRegistry) {
        self.role = role
        self.adapterName = adapterName
        self.registry = registry
    }

    public func networking() throws -> any NetworkingCapability { try registry.networking(of: adapterName) }
    public func identity() throws -> any IdentityCapability { try registry.identity(of: adapterName) }
    public func volumeImport() throws -> any VolumeImportCapability { try registry.volumeImport(of: adapterName) }
    public func images() throws -> any ImageCapability { try registry.images(of: adapterName) }
    public func compute() throws -> any ComputeCapability { try registry.compute(of: adapterName) }
    public func instanceDisks() throws -> any InstanceDiskCapability { try registry.instanceDisks(of: adapterName) }
    public func serviceEndpoints() throws -> any ServiceEndpointCapability { try registry.capability(.serviceEndpoints, of: adapterName, as: (any ServiceEndpointCapability).self) }
    public func runCommand() throws -> any InstanceCommandCapability { try registry.capability(.runCommand, of: adapterName, as: (any InstanceCommandCapability).self) }

    /// What `capabilities` the adapter lacks, in words; nil when it has them all.
    public func missing(_ capabilities: [Capability]) -> String? {
        guard let adapter = try? registry.adapter(named: adapterName) else { return "no adapter named '\(adapterName)'" }
        let lacking = capabilities.filter { !adapter.descriptor.capabilities.contains($0) }
        if !lacking.isEmpty { return "adapter '\(adapterName)' lacks \(lacking.map(\.rawValue).joined(separator: ", "))" }
        if case .unavailable(let reason) = adapter.descriptor.availability { return "adapter '\(adapterName)' is not available: \(reason)" }
        return nil
    }
}
