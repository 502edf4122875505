import FerryCore

/// The engine's image readers offered to source adapters: a qcow2 file is read through its
/// clusters, anything else is left to the adapter to read raw.
public struct DiskImageReaders: DiskImageReading {
    public init() {}

    public func openImage(at path: String) throws -> DiskImage? {
        guard QCOW2Reader.isQCOW2(path: path) else { return nil }
        return DiskImage(format: "qcow2", reader: try QCOW2Reader(path: path))
    }

    public func layout(of reader: any BlockReader, disk: String) throws -> DiskLayout {
        try DiskInspection.inspect(reader, format: "", disk: disk).layout
    }
}

extension DiskInspection {
    /// The part of the inspection a source adapter describes a machine from.
    public var layout: DiskLayout {
        DiskLayout(
            partitionScheme: partitionTable?.rawValue,
            partitions: partitions.map { DiskLayout.Partition(typeName: $0.typeName, fileSystemType: $0.fileSystem?.type) },
            fileSystemType: fileSystem?.type
        )
    }
}
