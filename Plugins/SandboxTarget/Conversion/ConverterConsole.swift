import FerryCore
import Foundation

/// What ferry-convert printed on the appliance's serial console, read back into Ferry's types
/// (the protocol is described in ConverterScript). Kernel and tool messages between the lines
/// are ignored; a line is recognised by its prefix at the start.
struct ConverterConsole {
    var inspection: GuestInspection?
    var changes: [ConversionChange] = []
    var initramfsCommands: [String] = []
    var notes: [String] = []
    /// ferry-convert's progress lines (`ferry-convert: <step> (at <uptime> s)`), for the log.
    var progress: [String] = []
    enum Outcome: String {
        case ok
        /// Stopped before changing anything.
        case refused
        /// Stopped part way: the disk may hold some changes.
        case failed
    }

    /// How it ended and why; nil when the appliance never said it was done.
    var done: (outcome: Outcome, reason: String)?
    var lines: [String]

    init(text: String) throws {
        // The serial console ends lines with CR LF, which Swift counts as one Character: drop
        // the CRs before splitting.
        lines = text.replacingOccurrences(of: "\r", with: "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let decoder = JSONDecoder()
        for line in lines {
            if let json = Self.value(of: "FERRY-INSPECT ", in: line) {
                do {
                    inspection = try decoder.decode(GuestInspection.self, from: Data(json.utf8))
                } catch {
                    throw ConverterError.applianceFailed(reason: "its inspection is not valid JSON (\(error)): \(json.prefix(300))", consoleTail: tail())
                }
            } else if let json = Self.value(of: "FERRY-CONVERT-CHANGE ", in: line) {
                guard let change = try? decoder.decode(ConversionChange.self, from: Data(json.utf8)) else {
                    throw ConverterError.applianceFailed(reason: "a change line is not valid JSON: \(json.prefix(300))", consoleTail: tail())
                }
                changes.append(change)
            } else if let command = Self.value(of: "FERRY-CONVERT-TOOL ", in: line) {
                initramfsCommands.append(command)
            } else if let text = Self.value(of: "FERRY-CONVERT-NOTE ", in: line) {
                notes.append(text)
            } else if let text = Self.value(of: "ferry-convert: ", in: line) {
                progress.append(text)
            } else if let rest = Self.value(of: "FERRY-CONVERT-DONE ", in: line) {
                let status = rest.prefix { $0 != " " }
                done = (Outcome(rawValue: String(status)) ?? .failed, String(rest.dropFirst(status.count)).trimmingCharacters(in: .whitespaces))
            }
        }
    }

    var isDone: Bool { done != nil }

    /// The last lines, for an error message.
    func tail(_ count: Int = 20) -> String {
        lines.filter { !$0.isEmpty }.suffix(count).joined(separator: "\n")
    }

    private static func value(of prefix: String, in line: String) -> String? {
        line.hasPrefix(prefix) ? String(line.dropFirst(prefix.count)) : nil
    }
}
