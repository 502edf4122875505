// TEMPORARY, never committed: stands in until the helper's GuestImageCache is merged.
import Foundation
public struct GuestImageCache: Sendable {
    public init(directory: URL) {}
    public static var defaultDirectory: URL { URL(fileURLWithPath: "/tmp") }
    public func disk(for profile: GuestProfile, log: (String) -> Void) throws -> String { throw SandboxError.baseImage("shim") }
}
