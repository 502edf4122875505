import FerryCore
/// The protocol versions this Ferry speaks.
public enum PluginProtocol {
    public static let currentVersion = 1
    public static let supportedVersions = [1]
    /// Executables named this, followed by the adapter's name, are plugins.
    public static let executablePrefix = "ferry-adapter-"
}
