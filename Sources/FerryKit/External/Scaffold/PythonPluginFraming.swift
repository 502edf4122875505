import Foundation

/// The Python module that frames plugin protocol messages (`Content-Length` and
/// `Binary-Length`, docs/plugin-protocol.md), Templates/ferry_framing.py. The Python
/// scaffold writes it beside the adapter, which imports it; any Python plugin may do the same.
public enum PythonPluginFraming {
    /// The module's file name; a plugin beside it says `from ferry_framing import ...`.
    public static let fileName = "ferry_framing.py"

    /// The module's text.
    public static let source = AdapterScaffoldTemplates.text(PackageResources.ferry_framing_py)

    /// Writes the module into `directory` (which must exist), so that a Python plugin there
    /// can import it.
    public static func write(into directory: URL) throws {
        try Data(source.utf8).write(to: directory.appendingPathComponent(fileName))
    }
}
