import FerryCore

/// What makes a machine the same source server across agent restarts: its hostname and the
/// disks it replicates. One rule, wherever an agent starts (the command, a recipe step).
public enum AgentIdentity {
    /// `hostname-` and 16 hex digits of a hash of the hostname and the disks' locators.
    public static func make(hostname: String, diskLocators: [String]) -> String {
        hostname + "-" + ChunkHash(hashing: Array((hostname + "\n" + diskLocators.joined(separator: "\n")).utf8)).hex.prefix(16)
    }
}
