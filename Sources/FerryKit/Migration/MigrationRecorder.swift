import FerryCore

/// Whoever drives a migration (a recipe step, a command) keeps the record of what it
/// creates in the target, the moment it exists, so that it can be removed after a crash.
public protocol MigrationRecorder: Sendable {
    func created(_ resource: CloudResource, role: MigrationResourceRole, attributes: [String: String]) throws
    /// A resource this migration removed itself (the test instance, at mark-ready).
    func removed(_ resource: CloudResource) throws
    /// A line for the person watching.
    func progress(_ text: String)
    /// A line for the person watching, in English and in Japanese: the recorder says the
    /// one its reader reads.
    func progress(en: String, ja: String)
}

extension MigrationRecorder {
    /// A recorder with one language (a log file, a test) says the English.
    public func progress(en: String, ja: String) { progress(en) }
}

/// What a resource created by a launch is for.
public enum MigrationResourceRole: String, Sendable {
    case testVolume = "test-volume", cutoverVolume = "cutover-volume"
    case testImage = "test-image", cutoverImage = "cutover-image"
    case testInstance = "test", cutoverInstance = "cutover"
    /// A converter instance, terminated by the time it is recorded.
    case converter

    static func volume(_ mode: LaunchMode) -> Self { mode == .test ? .testVolume : .cutoverVolume }
    static func image(_ mode: LaunchMode) -> Self { mode == .test ? .testImage : .cutoverImage }
    static func instance(_ mode: LaunchMode) -> Self { mode == .test ? .testInstance : .cutoverInstance }
}
