/// The engine of the convert stage: looks inside a machine's disk and changes its system so that
/// it boots on a target platform, offline (the machine is not running). The host hands one in
/// (`AdapterRegistry.machineConverter`); FerryKit uses it to inspect every launch's disk before
/// anything is created, and to convert the disks of targets that cannot run a converter of
/// their own before they are uploaded.
public protocol MachineConverter: Sendable {
    /// What is on the raw disk image at `path`, without changing it.
    func inspect(rawDiskAt path: String, log: @escaping @Sendable (String) -> Void) async throws -> GuestInspection

    /// Converts the raw disk image at `path` for `platform`, in place, and reports every change.
    /// A caller works on a copy: when this throws, the copy may hold some changes and is thrown
    /// away, never launched.
    func convert(rawDiskAt path: String, for platform: TargetPlatform, log: @escaping @Sendable (String) -> Void) async throws -> ConversionReport
}
