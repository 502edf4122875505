#if canImport(Glibc)
import Glibc
#endif

/// A system call on a file failed: which file, what Ferry was doing, and errno with its text.
/// Readers and writers turn it into their own error (`BlockReaderError.io`,
/// `DiskImageError.io`), which carries the same facts.
public struct FileIOError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var code: Int32
    public var message: String

    /// The error of the call that just failed, from `errno`.
    public init(path: String, operation: String) {
        self.init(path: path, operation: operation, code: errno)
    }

    public init(path: String, operation: String, code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
        self.message = String(cString: strerror(code))
    }

    public var description: String { "\(path): \(operation) failed: \(message) (errno \(code))" }
}
