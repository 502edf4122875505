/// Errors about VMware files: one line that names the file and says what is wrong.
public enum VMwareSourceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file is there but its contents are not what they must be.
    case invalid(file: String, reason: String)
    /// The file refers to another file that is not there.
    case missing(file: String, reference: String, role: String)
    /// The file is valid but uses something Ferry does not read.
    case unsupported(file: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let file, let reason):
            return "\(file): \(reason)"
        case .missing(let file, let reference, let role):
            return "\(file): \(role) '\(reference)' is missing"
        case .unsupported(let file, let reason):
            return "\(file): \(reason)"
        }
    }
}
