/// Where an instance's disks are, as files or devices on this machine. On a real cloud the
/// agent runs inside the machine and reads /dev/xvda; a target whose instances run here (the
/// sandbox) can show the agent their disks from outside, so that the agent "installed on"
/// an instance replicates it while it runs.
public protocol InstanceDiskCapability: Adapter {
    /// The instance's disks, boot disk first; each locator is a path the physical source can open.
    func instanceDisks(instanceID: String) async throws -> [DiskFacts]

    /// The machine protocol socket (QMP) of the hypervisor process that runs the instance,
    /// when the target has one: through it an agentless agent tracks the disks' writes (dirty
    /// bitmaps), reads them coherently and takes points in time (image fleecing), as vCenter
    /// replication does with VMware's changed block tracking. Nil: the disks are read as files.
    func hypervisorMonitor(instanceID: String) async throws -> String?
}

extension InstanceDiskCapability {
    public func hypervisorMonitor(instanceID: String) async throws -> String? { nil }
}
