/// Runs a command inside a running instance, as AWS Systems Manager's Run Command does: what
/// a consultant would type after logging in (installing the agent, a post-launch script). The
/// sandbox does it over SSH with a key of its own that every instance is given at launch.
public protocol InstanceCommandCapability: Adapter {
    /// Runs `command` with /bin/sh as root in `instanceID`, with `input` as its standard input
    /// (a secret goes there, never into the command); each line of its output goes to
    /// `output` as it comes.
    func runCommand(instanceID: String, command: String, input: String?, timeoutSeconds: Int,
                    output: @escaping @Sendable (String) -> Void) async throws -> InstanceCommandResult

    /// Why commands cannot run in `instanceID` now (it is stopped, its image has no way in),
    /// or nil when they can.
    func whyCannotRunCommands(instanceID: String) async throws -> String?
}

public struct InstanceCommandResult: Codable, Hashable, Sendable {
    public var exitStatus: Int32
    /// The last lines of its output (all of it went to the callback).
    public var outputTail: String

    public init(exitStatus: Int32, outputTail: String) {
        self.exitStatus = exitStatus
        self.outputTail = outputTail
    }
}
