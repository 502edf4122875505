/// Errors writing or recognising disk images, each naming the file.
public enum DiskImageError: Error, Hashable, Sendable, CustomStringConvertible {
    case io(path: String, operation: String, errno: Int32, message: String)
    case unsupported(path: String, reason: String)
    case tooLarge(path: String, reason: String)

    public var description: String {
        switch self {
        case .io(let path, let operation, let code, let message):
            return "\(path): \(operation) failed: \(message) (errno \(code))"
        case .unsupported(let path, let reason), .tooLarge(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}
