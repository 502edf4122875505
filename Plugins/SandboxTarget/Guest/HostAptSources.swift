import Foundation

/// The Debian archives this machine's apt uses, read at build time so a guest is built from
/// the same mirror (and proxy-free route) the host already reaches: deb822 files in
/// /etc/apt/sources.list.d/*.sources and one-line entries in /etc/apt/sources.list{,.d/*.list}.
/// Nothing names a mirror in the code: a machine behind its own mirror builds from that mirror.
struct HostAptSources: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        var uri: String
        var suite: String
        var components: [String]
        var signedBy: String?

        /// The entry as a one-line sources.list entry, the form mmdebstrap takes as a MIRROR argument.
        var oneLine: String {
            let options = signedBy.map { " [signed-by=\($0)]" } ?? ""
            return "deb\(options) \(uri) \(suite) \(components.joined(separator: " "))"
        }
    }

    var entries: [Entry]

    /// Reads the sources under `etc` (normally /etc/apt) and keeps the binary (`deb`) entries of
    /// the host's release, with its codename replaced by `suite` (bookworm-updates on a trixie host
    /// becomes bookworm-updates, trixie → bookworm), so the guest is Debian `suite` whatever the host runs.
    static func read(aptDirectory etc: String = "/etc/apt", hostCodename: String? = HostAptSources.hostCodename(), suite: String) -> HostAptSources {
        var entries: [Entry] = []
        let fileManager = FileManager.default
        if let text = try? String(contentsOfFile: etc + "/sources.list", encoding: .utf8) {
            entries += parseOneLine(text)
        }
        let folder = etc + "/sources.list.d"
        for name in ((try? fileManager.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
            guard let text = try? String(contentsOfFile: folder + "/" + name, encoding: .utf8) else { continue }
            if name.hasSuffix(".sources") { entries += parseDeb822(text) }
            if name.hasSuffix(".list") { entries += parseOneLine(text) }
        }
        var result: [Entry] = []
        for var entry in entries {
            if let hostCodename, hostCodename != suite, entry.suite.hasPrefix(hostCodename) {
                entry.suite = suite + entry.suite.dropFirst(hostCodename.count)
            }
            // Only the guest's release (and its -updates / -security / -backports pockets):
            // a host's extra third-party repository would not fit a bookworm system.
            guard entry.suite == suite || entry.suite.hasPrefix(suite + "-") || entry.suite.hasPrefix(suite + "/") else { continue }
            if !result.contains(entry) { result.append(entry) }
        }
        return HostAptSources(entries: result)
    }

    /// VERSION_CODENAME of /etc/os-release.
    static func hostCodename(osRelease: String = "/etc/os-release") -> String? {
        guard let text = try? String(contentsOfFile: osRelease, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VERSION_CODENAME=") {
            let value = line.dropFirst("VERSION_CODENAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// `deb [opt=value …] URI SUITE COMPONENT…` lines; comments, deb-src and blank lines skipped.
    static func parseOneLine(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        for rawLine in text.split(separator: "\n") {
            var line = String(rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("deb ") || line.hasPrefix("deb\t") else { continue }
            line = String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces)
            var signedBy: String?
            if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
                let options = line[line.index(after: line.startIndex)..<close].split(whereSeparator: { $0 == " " || $0 == "\t" })
                for option in options where option.hasPrefix("signed-by=") {
                    signedBy = String(option.dropFirst("signed-by=".count))
                }
                line = String(line[line.index(after: close)...]).trimmingCharacters(in: .whitespaces)
            }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count >= 3 else { continue }
            entries.append(Entry(uri: words[0], suite: words[1], components: Array(words[2...]), signedBy: signedBy))
        }
        return entries
    }

    /// deb822 stanzas (sources.list(5)): Types, URIs, Suites, Components, Signed-By, Enabled.
    /// Continuation lines (an inline key block) belong to the field above them.
    static func parseDeb822(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        let stanzas = text.components(separatedBy: "\n").split(whereSeparator: { $0.trimmingCharacters(in: .whitespaces).isEmpty })
        for stanza in stanzas {
            var fields: [String: String] = [:]
            var current: String?
            for line in stanza where !line.hasPrefix("#") {
                if line.first == " " || line.first == "\t" {
                    if let current { fields[current, default: ""] += "\n" + line.trimmingCharacters(in: .whitespaces) }
                    continue
                }
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].lowercased()
                fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                current = key
            }
            func words(_ key: String) -> [String] {
                (fields[key] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
            }
            guard words("types").contains("deb"), (fields["enabled"] ?? "yes").lowercased() != "no" else { continue }
            // An inline key (a multi-line Signed-By) cannot be a one-line option; apt then
            // falls back to the keyrings in /etc/apt/trusted.gpg.d, as for an unsigned-by entry.
            let signedBy = fields["signed-by"].flatMap { $0.contains("\n") ? nil : $0 }
            for uri in words("uris") {
                for suite in words("suites") {
                    entries.append(Entry(uri: uri, suite: suite, components: words("components"), signedBy: signedBy))
                }
            }
        }
        return entries
    }
}
