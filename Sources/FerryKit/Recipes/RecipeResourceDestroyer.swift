import FerryCore
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Removes one recorded resource through the capability that owns its kind. Something
/// already gone counts as removed, so that destroy is safe to repeat.
public struct RecipeResourceDestroyer: Sendable {
    public let environment: RecipeEnvironmentAccess

    public init(environment: RecipeEnvironmentAccess) {
        self.environment = environment
    }

    public func destroy(_ resource: CloudResource) async throws {
        switch resource.kind {
        case .vpc, .subnet, .internetGateway, .routeTable, .securityGroup:
            try await environment.networking().deleteNetworkResource(resource)
        case .user:
            try await environment.identity().deleteUser(name: resource.id)
        case .accessKey:
            break // deleted with its user
        case .volume, .snapshot:
            try await environment.volumeImport().deleteImportedVolume(id: resource.id)
        case .image:
            try await environment.images().deregisterImage(id: resource.id)
        case .instance:
            _ = try await environment.compute().terminateInstance(id: resource.id)
        case .agent:
            // Uninstalled from its instance, if that still runs: a terminated one takes its agent with it.
            let command = "\(AgentInstallCommand.installedAgent) uninstall"
            _ = try? await environment.runCommand().runCommand(instanceID: AgentResourceID.instance(of: resource.id), command: command, input: nil, timeoutSeconds: 120) { _ in }
        case .networkInterface:
            try await environment.serviceEndpoints().removeServiceEndpoint(id: resource.id)
        case .process:
            // Up to five seconds of polling for the process to end: on a thread of its own.
            let id = resource.id
            await BlockingWork.run { Self.stopProcess(id) }
        }
    }

    /// SIGTERM, then SIGKILL if it lingers. A pid that is gone is done. It blocks its
    /// thread for up to five seconds: async callers run it through `BlockingWork`.
    static func stopProcess(_ id: String) {
        guard let pid = pid_t(id), pid > 1 else { return }
        guard kill(pid, 0) == 0 else { return }
        kill(pid, SIGTERM)
        for _ in 0..<50 {
            if kill(pid, 0) != 0 { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }

    /// Whether an error says the resource no longer exists, as its adapter reports it.
    static func meansGone(_ error: any Error) -> Bool {
        (error as? any ResourceNotFoundError)?.isResourceNotFound ?? false
    }
}
