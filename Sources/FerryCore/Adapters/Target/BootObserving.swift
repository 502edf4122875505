/// A target that can see how far an instance's boot has got (the sandbox reads the guest's
/// serial console), so that a wait of a minute for a machine to answer shows where it is
/// rather than nothing. Optional beside `ComputeCapability`: a cloud without console access
/// simply does not adopt it.
public protocol BootObserving: Sendable {
    /// What runs the machine, as the person watching knows it ("QEMU"), for "QEMU started".
    var machineMonitor: String { get }
    /// The furthest phase the instance's current boot has reached. Throws `GuestCannotBoot`
    /// when its console shows that the boot will not succeed however long one waits (the
    /// initramfs gave up on its root, the kernel panicked).
    func bootPhase(instanceID: String) async throws -> BootPhase
}

/// A boot that has failed for good, with what the console said.
public struct GuestCannotBoot: Error, Hashable, Sendable, CustomStringConvertible {
    public var instanceID: String
    public var reason: String
    public var consoleTail: String

    public init(instanceID: String, reason: String, consoleTail: String) {
        self.instanceID = instanceID
        self.reason = reason
        self.consoleTail = consoleTail
    }

    public var description: String {
        "\(instanceID) cannot boot: \(reason) (a disk its system has no driver for, or a root it names by a device the machine does not have). Last lines of its console:\n\(consoleTail)"
    }
}

/// The phases of a boot, in the order they happen.
public enum BootPhase: Int, Comparable, Sendable, CaseIterable {
    /// The virtual machine exists and runs (its process started), nothing printed yet.
    case machineStarted
    /// The guest's kernel runs (its early userspace said so).
    case kernel
    /// The first-boot scripts (user data) finished.
    case firstBoot
    /// The guest finished booting this time.
    case ready

    public static func < (lhs: BootPhase, rhs: BootPhase) -> Bool { lhs.rawValue < rhs.rawValue }
}
