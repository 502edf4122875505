import FerryCore
import FerryReplication
import FerryKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Shows the agent's progress: a live line on a terminal, one line per event otherwise.
final class AgentProgressPrinter: Sendable {
    let json: Bool
    let interactive = isatty(STDERR_FILENO) == 1

    init(json: Bool) {
        self.json = json
    }

    func show(_ event: ReplicationAgent.Event) {
        switch event {
        case .connected(let id, let held):
            line("Connected as source server \(id); the server already holds \(held) blocks")
        case .progress(let p):
            guard interactive else { return }
            let eta = p.etaSeconds.map { String(format: "ETA %.0f s", $0) } ?? "ETA -"
            let bar = p.bytesTotal > 0 ? ProgressBar.draw(Double(p.bytesDone) / Double(p.bytesTotal)) + "  " : ""
            let text = "\(bar)pass \(p.pass): \(Output.bytes(p.bytesDone)) of \(Output.bytes(p.bytesTotal)) read, \(Output.bytes(p.bytesSent)) sent, \(Output.bytes(UInt64(p.bytesPerSecond)))/s, \(eta)"
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        case .committed(let s):
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            if json {
                let object: [String: Any] = ["pass": s.pass, "snapshot": s.snapshotID, "bytesScanned": s.bytesScanned, "bytesSent": s.bytesSent,
                                             "blocksSent": s.blocksSent, "blocksTrimmed": s.blocksTrimmed, "seconds": s.seconds]
                if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) { print(String(decoding: data, as: UTF8.self)) }
            } else {
                print("Pass \(s.pass) committed as snapshot \(s.snapshotID): \(s.blocksSent) blocks (\(Output.bytes(s.bytesSent))) sent, \(s.blocksTrimmed) trimmed, \(Output.bytes(s.bytesScanned)) read in \(String(format: "%.1f", s.seconds)) s")
            }
            Output.flush()
        case .reconnecting(let delay, let reason):
            line("No connection to the replication server (\(reason)); trying again in \(delay)")
        case .rescanning(let reason):
            line("Reading every block (\(reason))")
        case .resumed(let blocks):
            line("Resumed without reading every block: \(blocks) blocks written since the last point are compared with the server's")
        }
    }

    private func line(_ text: String) {
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }
}
