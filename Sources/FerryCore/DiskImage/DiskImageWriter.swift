/// How far a copy has come.
public struct DiskCopyProgress: Sendable {
    public var bytesDone: UInt64
    public var bytesTotal: UInt64

    public init(bytesDone: UInt64, bytesTotal: UInt64) {
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
    }
}

/// Writes a disk, read from any `BlockReader`, into a new image file.
public protocol DiskImageWriter: Sendable {
    /// The format's name ("raw", "qcow2", "vmdk").
    var format: String { get }
    func write(_ reader: any BlockReader, to path: String, progress: (@Sendable (DiskCopyProgress) -> Void)?) throws
}
