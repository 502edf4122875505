import Foundation

/// One of the INI files AWS tools share: ~/.aws/credentials (sections named after the
/// profile) or ~/.aws/config (`[default]` and `[profile NAME]`).
struct SharedConfigFile {
    var path: String
    /// Section name → key → value; keys lower-cased.
    var sections: [String: [String: String]]

    /// Reads `path`; a missing file is an empty one.
    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            self.init(path: path, text: "")
            return
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AWSConfigurationError.unreadableFile(path: path, reason: "\(error.localizedDescription)")
        }
        self.init(path: path, text: text)
    }

    init(path: String, text: String) {
        self.path = path
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                sections[current!, default: [:]] = sections[current!] ?? [:]
                continue
            }
            // Indented lines belong to a nested block (`s3 =` …), which Ferry does not use.
            guard let section = current, rawLine.first?.isWhitespace != true,
                  let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = value
        }
        self.sections = sections
    }

    /// The settings of `profile` in a credentials file.
    func credentialsProfile(_ profile: String) -> [String: String]? {
        sections[profile]
    }

    /// The settings of `profile` in a config file (`[default]` or `[profile NAME]`).
    func configProfile(_ profile: String) -> [String: String]? {
        if profile == "default" { return sections["default"] ?? sections["profile default"] }
        return sections["profile \(profile)"]
    }
}
