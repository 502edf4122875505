import FerryCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The agent's hold on a QEMU process: its monitor, its NBD server, a directory for the
/// fleecing overlays, and a name of its own that recognises what a killed agent left.
final class QEMUSession: @unchecked Sendable {
    let qmp: QMPConnection
    let nbdSocket: String
    let name = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    private let workDirectory: String
    private let startedServer: Bool
    /// One point or rotation at a time.
    let lock = NSLock()

    static let prefix = "ferry-"

    init(monitor: String, nbdServer: String?) throws {
        do {
            qmp = try QMPConnection(socket: monitor)
        } catch {
            throw QEMUWriteTracking.Unavailable(description: "\(error)")
        }
        var template = Array((FileManager.default.temporaryDirectory.path + "/ferry-qemu-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw QEMUWriteTracking.Unavailable(description: "no temporary directory: \(String(cString: strerror(errno)))") }
        workDirectory = String(cString: made)
        Self.removeLeftovers(qmp)
        if let nbdServer {
            nbdSocket = nbdServer
            startedServer = false
        } else {
            nbdSocket = workDirectory + "/nbd.sock"
            do {
                let start: [String: Any] = ["addr": ["type": "unix", "data": ["path": nbdSocket]]]
                do {
                    try qmp.execute("nbd-server-start", start)
                } catch {
                    // Running already. With no export but ours left (removed above), it is the
                    // one a killed agent started, on a socket gone with its directory: restarted.
                    let exports = (try? qmp.execute("query-block-exports")) as? [[String: Any]] ?? []
                    guard exports.allSatisfy({ ($0["id"] as? String ?? "").hasPrefix(Self.prefix) }) else { throw error }
                    try qmp.execute("nbd-server-stop")
                    try qmp.execute("nbd-server-start", start)
                }
            } catch {
                try? FileManager.default.removeItem(atPath: workDirectory)
                throw QEMUWriteTracking.Unavailable(description: "\(error) (an NBD server that QEMU already runs is given with its socket)")
            }
            startedServer = true
        }
    }

    deinit {
        if startedServer { qmp.bestEffort("nbd-server-stop") }
        try? FileManager.default.removeItem(atPath: workDirectory)
    }

    func temporaryFile(_ name: String) -> String { "\(workDirectory)/\(name)" }

    /// Polls `done` (QEMU finishes jobs and export deletions asynchronously) for up to 10 s.
    static func waitUntil(_ done: () -> Bool) {
        let deadline = ContinuousClock.now + .seconds(10)
        while !done(), ContinuousClock.now < deadline { usleep(2_000) }
    }

    /// What an agent killed before it could clean up left in QEMU: its exports, its jobs,
    /// its fleecing nodes and its bitmaps. Its tracking is lost anyway (a rescan follows).
    static func removeLeftovers(_ qmp: QMPConnection) {
        let exports = (try? qmp.execute("query-block-exports")) as? [[String: Any]] ?? []
        for export in exports { if let id = export["id"] as? String, id.hasPrefix(QEMUSession.prefix) { qmp.bestEffort("block-export-del", ["id": id, "mode": "hard"]) } }
        let jobs = (try? qmp.execute("query-block-jobs")) as? [[String: Any]] ?? []
        for job in jobs { if let id = job["device"] as? String, id.hasPrefix(QEMUSession.prefix) { qmp.bestEffort("block-job-cancel", ["device": id, "force": true]) } }
        QEMUSession.waitUntil { ((try? qmp.execute("query-block-jobs")) as? [[String: Any]] ?? []).allSatisfy { !(($0["device"] as? String) ?? "").hasPrefix(QEMUSession.prefix) } }
        let nodes = (try? qmp.execute("query-named-block-nodes", ["flat": true])) as? [[String: Any]] ?? []
        for node in nodes {
            guard let name = node["node-name"] as? String else { continue }
            if name.hasPrefix(QEMUSession.prefix) { qmp.bestEffort("blockdev-del", ["node-name": name]); continue }
            for bitmap in node["dirty-bitmaps"] as? [[String: Any]] ?? [] {
                if let bitmapName = bitmap["name"] as? String, bitmapName.hasPrefix(QEMUSession.prefix) {
                    qmp.bestEffort("block-dirty-bitmap-remove", ["node": name, "name": bitmapName])
                }
            }
        }
    }
}
