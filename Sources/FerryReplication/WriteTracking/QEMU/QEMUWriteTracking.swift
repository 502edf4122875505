import FerryCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Agentless write tracking at the hypervisor, the way VMware's changed block tracking serves
/// vCenter replication: the QEMU process that runs the machine keeps a dirty bitmap of each
/// drive (`block-dirty-bitmap-add`, one bit per 4 KiB page), the agent reads the disk
/// through QEMU's own NBD server (coherent with what the guest wrote, whatever the image's
/// format and caches), and a point in time is an image fleecing: in one QMP transaction the
/// bitmap is rotated and a `blockdev-backup sync=none` starts copying, before each guest
/// write, the old content into a temporary overlay whose backing is the drive. Read through
/// that overlay, the drive is as it was at the transaction's instant while the guest runs on,
/// never paused. This is QEMU's documented recipe for pull-mode incremental backup.
public enum QEMUWriteTracking {
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Tracks the drives of the QEMU process whose QMP monitor is `monitor` and whose image
    /// files are `disks`, returning the tracking and a reader per disk (reads through QEMU).
    /// `nbdServer`: the socket of an NBD server that QEMU already runs (else the agent starts one).
    public static func attach(monitor: String, nbdServer: String? = nil, disks: [String]) throws -> (tracking: WriteTracking, readers: [any BlockReader]) {
        let machine = try QEMUMachine(monitor: monitor, nbdServer: nbdServer, files: disks)
        return (WriteTracking(trackers: machine.drives, freezer: machine), machine.drives)
    }
}
