/// A source of machines to migrate: it discovers machines and opens their disks.
/// Declares the `discovery` and `block-read` capabilities.
public protocol SourceAdapter: Adapter {
    /// The machines this source can see with `configuration`, with their facts and disks.
    func discoverMachines(configuration: AdapterConfiguration) async throws -> [MachineFacts]

    /// Opens the disk that `disk.locator` names (as returned by `discoverMachines`) for reading.
    func openDisk(_ disk: DiskFacts, configuration: AdapterConfiguration) throws -> any BlockReader
}

/// A source that can tell cheaply whether a disk may have changed, so that continuous
/// replication re-reads sooner than its interval. Declares `change-tracking`.
public protocol ChangeTrackingSource: SourceAdapter {
    /// A value that differs whenever the disk may have changed since it was last taken.
    func changeStamp(of disk: DiskFacts, configuration: AdapterConfiguration) throws -> ChangeStamp
}

/// An opaque marker of a disk's state (for a file: size and modification time).
public struct ChangeStamp: Codable, Hashable, Sendable {
    public var value: String
    public init(_ value: String) { self.value = value }
}
