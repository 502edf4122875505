/// Where an instance's disks are, as files or devices on this machine. On a real cloud the
/// agent runs inside the machine and reads /dev/xvda; a target whose instances run here (the
/// sandbox) can show the agent their disks from outside, so that the agent "installed on"
/// an instance replicates it while it runs.
public protocol InstanceDiskCapability: Adapter {
    /// The instance's disks, boot disk first; each locator is a path the physical source can open.
    func instanceDisks(instanceID: String) async throws -> [DiskFacts]
}
