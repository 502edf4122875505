import FerryCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The QEMU process's drives, and the points in time taken of them together.
final class QEMUMachine: PointInTimeFreezer, @unchecked Sendable {
    let session: QEMUSession
    let drives: [QEMUDrive]
    let scope: String
    /// The guest writes on while a point is read: from the fleecing overlay.
    let holdsWrites = false

    init(monitor: String, nbdServer: String?, files: [String]) throws {
        let session = try QEMUSession(monitor: monitor, nbdServer: nbdServer)
        let nodes = try Self.formatNodes(session.qmp, files: files)
        self.session = session
        drives = files.enumerated().map { QEMUDrive(index: $0.offset, file: $0.element, node: nodes[$0.offset], session: session) }
        scope = "the drives of the QEMU process behind \(monitor) (an image fleecing per point, the guest never paused)"
        for drive in drives { try drive.start() }
    }

    deinit {
        for drive in drives { drive.stop() }
    }

    /// The format node (qcow2, raw…) whose image file is each of `files`.
    private static func formatNodes(_ qmp: QMPConnection, files: [String]) throws -> [String] {
        let nodes = (try? qmp.execute("query-named-block-nodes", ["flat": true])) as? [[String: Any]] ?? []
        let notFormats: Set<String> = ["file", "host_device", "copy-before-write", "throttle", "snapshot-access"]
        return try files.map { file in
            let path = URL(fileURLWithPath: file).standardizedFileURL.resolvingSymlinksInPath().path
            let matching = nodes.filter { node in
                guard let drv = node["drv"] as? String, !notFormats.contains(drv), let name = node["node-name"] as? String,
                      !name.hasPrefix(QEMUSession.prefix), let nodeFile = node["file"] as? String else { return false }
                return URL(fileURLWithPath: nodeFile).standardizedFileURL.resolvingSymlinksInPath().path == path
            }
            guard let node = matching.first?["node-name"] as? String else {
                let known = nodes.compactMap { $0["file"] as? String }
                throw QEMUWriteTracking.Unavailable(description: "the QEMU process runs no drive on \(file) (its images: \(Set(known).sorted().joined(separator: ", ")))")
            }
            return node
        }
    }

    /// The point in time: one transaction rotates every drive's bitmap and starts every
    /// drive's fleecing backup, so that all drives are taken at the same instant.
    func freeze(limit: Duration) throws -> any FrozenPointInTime {
        session.lock.lock()
        defer { session.lock.unlock() }
        var prepared: [QEMUDrive.Fleece] = []
        let instant: Date
        do {
            for drive in drives { prepared.append(try drive.prepareFleece()) }
            var actions: [[String: Any]] = []
            for (drive, fleece) in zip(drives, prepared) { actions += drive.pointActions(fleece) }
            instant = Date()
            try session.qmp.execute("transaction", ["actions": actions])
        } catch {
            for (drive, fleece) in zip(drives, prepared) { drive.release(fleece, transacted: false) }
            throw error
        }
        for drive in drives { drive.rotated() }
        do {
            for (drive, fleece) in zip(drives, prepared) { try drive.holdPoint(fleece) }
        } catch {
            // The bitmaps were rotated: the retired bits go back into the new ones (nothing
            // written is forgotten) and this interval closes no point.
            for (drive, fleece) in zip(drives, prepared) { drive.release(fleece, transacted: true) }
            throw error
        }
        return Point(machine: self, instant: instant)
    }

    private final class Point: FrozenPointInTime, @unchecked Sendable {
        let machine: QEMUMachine
        let instant: Date
        init(machine: QEMUMachine, instant: Date) {
            self.machine = machine
            self.instant = instant
        }
        /// The guest was never held: the point stays whole however long the reads took.
        func thaw() -> Bool {
            machine.session.lock.lock()
            defer { machine.session.lock.unlock() }
            for drive in machine.drives { drive.releasePoint() }
            return true
        }
    }
}
