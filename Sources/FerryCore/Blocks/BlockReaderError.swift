/// Why a disk could not be read, naming the disk.
public enum BlockReaderError: Error, Hashable, Sendable, CustomStringConvertible {
    case outOfBounds(disk: String, offset: UInt64, count: Int, size: UInt64)
    case io(disk: String, operation: String, errno: Int32, message: String)
    case corrupt(disk: String, reason: String)

    public var description: String {
        switch self {
        case .outOfBounds(let disk, let offset, let count, let size):
            return "\(disk): read of \(count) bytes at offset \(offset) goes past the end of the disk (\(size) bytes)"
        case .io(let disk, let operation, let code, let message):
            return "\(disk): \(operation) failed: \(message) (errno \(code))"
        case .corrupt(let disk, let reason):
            return "\(disk): \(reason)"
        }
    }
}
