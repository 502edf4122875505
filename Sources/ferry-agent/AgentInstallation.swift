import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where an installed agent lives on the source machine, and its settings: one JSON file,
/// readable by root only since it holds the project's token (as MGN's agent keeps its own).
struct AgentInstallation {
    static let binary = URL(fileURLWithPath: "/usr/local/lib/ferry-agent/ferry-agent")
    /// On root's PATH: `ferry-agent status` works as the installer's last lines say.
    static let command = URL(fileURLWithPath: "/usr/local/bin/ferry-agent")
    static let settingsFile = URL(fileURLWithPath: "/etc/ferry-agent/agent.json")
    /// Where the agent keeps what it learns between runs (nothing the server does not have).
    static let stateDirectory = URL(fileURLWithPath: "/var/lib/ferry-agent")

    struct Settings: Codable {
        var server: String
        var pin: String
        var token: String
        /// Fixed at installation: the same source server after a rename or a reboot.
        var identity: String
        var disks: [String]
        var sourceServerID: String?
        var installedAt: Date
    }

    static func readSettings() throws -> Settings {
        guard let data = FileManager.default.contents(atPath: settingsFile.path) else {
            throw AgentCommandError("the agent is not installed here (no \(settingsFile.path)); run the installer from the replication server")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(Settings.self, from: data)
        } catch {
            throw AgentCommandError("\(settingsFile.path) cannot be read (\(error)); install the agent again")
        }
    }

    static func write(_ settings: Settings) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try FileManager.default.createDirectory(at: settingsFile.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = settingsFile.deletingLastPathComponent().appendingPathComponent(".agent.json.new")
        guard FileManager.default.createFile(atPath: temporary.path, contents: try encoder.encode(settings), attributes: [.posixPermissions: 0o600]),
              rename(temporary.path, settingsFile.path) == 0 else {
            throw AgentCommandError("cannot write \(settingsFile.path): \(String(cString: strerror(errno)))")
        }
    }
}

struct AgentCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes a line (or part of one) at once: the installer's output and the service's journal
/// must show progress as it happens, not when a buffer fills.
func say(_ text: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}
