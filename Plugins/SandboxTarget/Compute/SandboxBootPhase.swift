import FerryCore
import Foundation

/// How far an instance's current boot has got, read from the markers the guest prints on its
/// serial console since this boot began (`consoleOffset`): the kernel's early userspace, the
/// first-boot scripts, the end of the boot.
extension SandboxCloud {
    static let kernelStartedMarker = "FERRY-KERNEL-STARTED"

    public func bootPhase(instanceID id: String) throws -> BootPhase {
        let record = try refreshed(id)
        let console = readConsole(id)
        let offset = min(Int(record.consoleOffset), console.utf8.count)
        let sinceBoot = String(decoding: Array(console.utf8)[offset...], as: UTF8.self)
        if record.instanceState != .running, let reason = bootFailure(record) {
            throw GuestCannotBoot(instanceID: id, reason: reason, consoleTail: consoleTail(id))
        }
        if record.instanceState == .running || sinceBoot.contains("\(Self.bootReadyMarker) \(id)") { return .ready }
        if sinceBoot.contains("\(Self.firstBootMarker) ") { return .firstBoot }
        if sinceBoot.contains(Self.kernelStartedMarker) { return .kernel }
        return .machineStarted
    }
}

extension SandboxTargetAdapter: BootObserving {
    public var machineMonitor: String { "QEMU" }

    public func bootPhase(instanceID: String) async throws -> BootPhase {
        try await onCloud { try $0.bootPhase(instanceID: instanceID) }
    }
}
