import FerryTestSupport
import Foundation
import Testing

/// The consistency check of points in time: inside the source, a writer appends numbered,
/// checksummed records with fsync, round robin over eight top-level directories (ext4 puts
/// each in a block group of its own, spread over the disk), as fast as it can. A snapshot
/// that is the disk at one instant holds every record up to some number and none after it;
/// a snapshot assembled from blocks read at different moments holds a late directory's
/// record N+1 without an early directory's record N.
enum PointInTimeConsistency {
    static let directories = 8

    /// The writer, as a POSIX shell script (the guest has no compiler), started detached.
    static let startWriter = """
    cat > /root/ferry-writer.sh <<'SCRIPT'
    i=0
    for d in 0 1 2 3 4 5 6 7; do mkdir -p /ferry-c$d; done
    sync
    while [ ! -e /root/ferry-writer.stop ]; do
      i=$((i + 1)); d=$((i % 8))
      printf 'record %09d %010d\\n' $i $(( (i * 2654435761) % 4294967296 )) >> /ferry-c$d/log
      sync /ferry-c$d/log
    done
    echo $i > /root/ferry-writer.count
    SCRIPT
    rm -f /root/ferry-writer.stop /root/ferry-writer.count
    setsid nohup sh /root/ferry-writer.sh > /dev/null 2>&1 < /dev/null &
    echo started
    """

    static let stopWriter = "touch /root/ferry-writer.stop; for i in $(seq 60); do [ -e /root/ferry-writer.count ] && break; sleep 1; done; cat /root/ferry-writer.count"

    struct Verdict: CustomStringConvertible {
        var snapshotID: String
        var records: Int
        var problem: String?
        var description: String { "\(snapshotID): \(records) records" + (problem.map { ", \($0)" } ?? ", a gap-free prefix") }
    }

    /// Exports every snapshot committed after `since` that has not been checked yet, and
    /// checks it. Snapshots that retention removed meanwhile are passed over.
    static func checkNewSnapshots(serverID: String, workspace: String, directory: URL, since: Date, checked: inout [String: Verdict]) throws {
        let list = try FerryProcess.run(["snapshot", "list", serverID, "--workspace", workspace, "--output", "json"])
        let snapshots = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for snapshot in snapshots {
            guard let id = snapshot["id"] as? String, checked[id] == nil, let taken = snapshot["takenAt"] as? String,
                  let takenAt = formatter.date(from: taken) ?? ISO8601DateFormatter().date(from: taken), takenAt > since else { continue }
            let file = directory.appendingPathComponent("\(id).raw")
            defer { try? FileManager.default.removeItem(at: file) }
            guard try FerryProcess.run(["snapshot", "export", id, "--to", file.path, "--workspace", workspace]).status == 0 else { continue }
            checked[id] = try check(disk: file, snapshotID: id)
        }
    }

    /// Reads the records out of a raw disk's first Linux partition, after replaying the
    /// file system's journal as a mount would (e2fsck, debugfs: no mount, no root needed).
    static func check(disk: URL, snapshotID: String) throws -> Verdict {
        let table = try tool("/usr/sbin/sfdisk", ["--json", disk.path])
        let json = try JSONSerialization.jsonObject(with: Data(table.stdout.utf8)) as? [String: Any]
        let partitions = ((json?["partitiontable"] as? [String: Any])?["partitions"] as? [[String: Any]]) ?? []
        guard let root = partitions.max(by: { ($0["size"] as? Int ?? 0) < ($1["size"] as? Int ?? 0) }), let start = root["start"] as? Int else {
            return Verdict(snapshotID: snapshotID, records: 0, problem: "no partition table: \(table.stderr)")
        }
        let fileSystem = "\(disk.path)?offset=\(start * 512)"
        // A point taken without freezing (the hypervisor mode's fleecing) has a journal to
        // replay, as after a crash; e2fsck loses the offset when it reopens the file system
        // after a replay ("Bad magic number … while trying to re-open"), so such a file
        // system is copied out of the disk first (sparse: holes cost nothing).
        if try needsRecovery(disk: disk, offset: UInt64(start * 512)) {
            let copy = disk.deletingPathExtension().appendingPathExtension("fs")
            defer { try? FileManager.default.removeItem(at: copy) }
            let extracted = try tool("/usr/bin/dd", ["if=\(disk.path)", "of=\(copy.path)", "bs=4M", "skip=\(start * 512)", "iflag=skip_bytes", "conv=sparse", "status=none"])
            guard extracted.status == 0 else { return Verdict(snapshotID: snapshotID, records: 0, problem: "dd: \(extracted.stderr)") }
            try? FileManager.default.removeItem(at: disk)  // the copy is what is read from now on
            return try check(fileSystem: copy.path, snapshotID: snapshotID)
        }
        return try check(fileSystem: fileSystem, snapshotID: snapshotID)
    }

    /// Whether the ext4 file system at `offset` of `disk` has a journal to replay (the
    /// superblock's incompatible feature RECOVER).
    static func needsRecovery(disk: URL, offset: UInt64) throws -> Bool {
        let handle = try FileHandle(forReadingFrom: disk)
        defer { try? handle.close() }
        try handle.seek(toOffset: offset + 1024 + 96)
        let bytes = try handle.read(upToCount: 4) ?? Data()
        guard bytes.count == 4 else { return false }
        return bytes[bytes.startIndex + 0] & 0x04 != 0
    }

    /// Reads the records out of an ext4 file system (a file, or a disk with `?offset=`).
    static func check(fileSystem: String, snapshotID: String) throws -> Verdict {
        let replay = try tool("/usr/sbin/e2fsck", ["-fy", "-E", "journal_only", fileSystem])
        guard replay.status <= 1 else { return Verdict(snapshotID: snapshotID, records: 0, problem: "e2fsck: \(replay.stdout.suffix(500))\(replay.stderr.suffix(500))") }
        var numbers: [Int] = []
        for d in 0..<directories {
            let cat = try tool("/usr/sbin/debugfs", ["-R", "cat /ferry-c\(d)/log", fileSystem])
            for (line, text) in cat.stdout.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !text.isEmpty {
                let fields = text.split(separator: " ")
                guard fields.count == 3, fields[0] == "record", let n = Int(fields[1]), let sum = Int(fields[2]), sum == (n * 2_654_435_761) % 4_294_967_296, n % directories == d else {
                    return Verdict(snapshotID: snapshotID, records: numbers.count, problem: "line \(line + 1) of /ferry-c\(d)/log is not a whole record: \(text.prefix(40).debugDescription)")
                }
                numbers.append(n)
            }
        }
        numbers.sort()
        for (i, n) in numbers.enumerated() where n != i + 1 {
            return Verdict(snapshotID: snapshotID, records: numbers.count, problem: "record \(i + 1) is missing while record \(numbers.last ?? 0) is there")
        }
        return Verdict(snapshotID: snapshotID, records: numbers.count, problem: nil)
    }

    /// A host tool's status, standard output and standard error apart (debugfs prints its
    /// banner on standard error, the file on standard output).
    static func tool(_ path: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let collected = try ChildOutput.collect(process, output: out, errors: err, timeoutSeconds: 300)
        return (collected.status, String(decoding: collected.stdout, as: UTF8.self), String(decoding: collected.stderr, as: UTF8.self))
    }
}
