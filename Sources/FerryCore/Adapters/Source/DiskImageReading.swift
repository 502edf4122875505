/// What a source needs from the engine's disk-image readers: open an image file in a format
/// the engine understands (qcow2 today) and tell what its partition table and file systems
/// are. The parsers stay in the engine, which also needs them for export and inspection; the
/// CLI hands an implementation to the adapters that read image files.
public protocol DiskImageReading: Sendable {
    /// The image at `path` opened through its format, or nil when it is in no format the
    /// engine knows (a raw image or a block device, to be read byte for byte).
    func openImage(at path: String) throws -> DiskImage?

    /// The partition table and file systems of the disk `reader` reads; `disk` names it in errors.
    func layout(of reader: any BlockReader, disk: String) throws -> DiskLayout
}

/// A disk image file opened through its format.
public struct DiskImage: Sendable {
    /// The format's name ("qcow2").
    public var format: String
    public var reader: any BlockReader

    public init(format: String, reader: any BlockReader) {
        self.format = format
        self.reader = reader
    }
}
