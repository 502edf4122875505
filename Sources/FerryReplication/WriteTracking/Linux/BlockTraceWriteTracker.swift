import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A disk's writes from the Linux block layer's own trace: the BLKTRACESETUP ioctl that
/// blktrace(8) uses, read from the per-CPU relay files under debugfs. Mainline since 2.6.17,
/// built into Debian's, Ubuntu's and RHEL's kernels, nothing to compile and nothing to
/// change on the disk; it sees every write as it is queued and completed, from a file
/// system, swap or a raw writer alike. Chosen over dm-era and device-mapper snapshots, which
/// need the disk to be a device-mapper device already (a plain /dev/sda1 root is not).
/// The structures and ioctl numbers are Linux's <linux/blktrace_api.h>, written here by hand:
/// no package reads them.
public final class BlockTraceWriteTracker: WriteTracker, Sendable {
    public let mechanism: String
    private let device: String
    private let fd: Int32
    private let traceDirectory: String
    private let state: Mutex<TraceState>

    private struct TraceState {
        var files: [Int32]
        /// An event cut in two by a read, per file: the rest comes with the next read.
        var partial: [[UInt8]]
        var dropped: UInt64
        /// The read buffer, kept: take() runs five times a second, mostly to find nothing.
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    // _IOWR(0x12, 115, struct blk_user_trace_setup) with the struct's 72 bytes; _IO(0x12, 116…118).
    private static let setup: UInt = 0xC048_1273
    private static let start: UInt = 0x1274
    private static let stop: UInt = 0x1275
    private static let teardown: UInt = 0x1276
    private static let setupSize = 72
    private static let categoryWrite: UInt32 = 1 << 1
    private static let actionQueue: UInt32 = 1
    private static let actionComplete: UInt32 = 8
    private static let eventSize = 48
    private static let magic: UInt32 = 0x6561_7400
    private static let debugfs = "/sys/kernel/debug"

    /// Starts tracing `device` (a whole disk: its partitions' writes are traced at the disk's offsets).
    public init(device: String) throws(Unavailable) {
        self.device = device
        let fd = open(device, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Unavailable(description: "\(device) cannot be opened (\(String(cString: strerror(errno))))") }
        let directory: String
        var files: [Int32] = []
        let dropped: UInt64
        do throws(Unavailable) {
            try Self.mountDebugfsIfNeeded()
            let name = try Self.startTrace(fd: fd, device: device)
            directory = "\(Self.debugfs)/block/\(name)"
            var refused: String?
            for cpu in 0..<max(1, sysconf(Int32(_SC_NPROCESSORS_CONF))) {
                let file = open("\(directory)/trace\(cpu)", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
                if file >= 0 { files.append(file) } else if errno != ENOENT { refused = String(cString: strerror(errno)) }
            }
            if files.isEmpty, let refused {
                // EPERM for root: a kernel in lockdown (Secure Boot, or a hardened VM's kernel)
                // lets no one open debugfs files that can be mapped, as the relay files can.
                throw Unavailable(description: "the kernel refuses to open the trace of \(device) (\(directory)/trace0: \(refused); a kernel in lockdown, as with Secure Boot, refuses it even to root)")
            }
            guard !files.isEmpty else { throw Unavailable(description: "the trace of \(device) has no relay files in \(directory)") }
            guard let count = Self.dropped(in: directory) else { throw Unavailable(description: "the trace of \(device) has no count of dropped events") }
            dropped = count
        } catch {
            files.forEach { close($0) }
            _ = ioctl(fd, Self.stop)
            _ = ioctl(fd, Self.teardown)
            close(fd)
            throw error
        }
        self.fd = fd
        traceDirectory = directory
        mechanism = "the block layer's trace of \(device)"
        state = Mutex(TraceState(files: files, partial: Array(repeating: [], count: files.count), dropped: dropped))
    }

    deinit {
        state.withLock { state in state.files.forEach { close($0) } }
        _ = ioctl(fd, Self.stop)
        _ = ioctl(fd, Self.teardown)
        close(fd)
    }

    public func take() throws -> TrackedWrites {
        var writes = TrackedWrites()
        let now = Date()
        let monotonicNow = Self.monotonicNanoseconds()
        try state.withLock { state in
            for (slot, file) in state.files.enumerated() {
                while true {
                    let n = state.chunk.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    var bytes = state.partial[slot]
                    let carried = bytes.count
                    bytes.append(contentsOf: state.chunk[0..<n])
                    let used: Int
                    do {
                        used = try Self.parse(bytes, into: &writes, now: now, monotonicNow: monotonicNow, device: device)
                    } catch let lost as WriteTrackingLost {
                        // Say where, for whoever reads the source server's record: which CPU's
                        // file, how much was read and carried, and the bytes found.
                        throw WriteTrackingLost("\(lost.reason) (trace\(slot): \(n) bytes read, \(carried) carried from the last read, \(lost.detail))")
                    }
                    state.partial[slot] = Array(bytes[used...])
                }
            }
            guard let dropped = Self.dropped(in: traceDirectory) else {
                throw WriteTrackingLost("the block layer's trace of \(device) is gone (\(traceDirectory)/dropped cannot be read)")
            }
            if dropped > state.dropped {
                let lost = dropped - state.dropped
                state.dropped = dropped
                throw WriteTrackingLost("the block layer's trace of \(device) dropped \(lost) events")
            }
        }
        return writes
    }

    /// Parses whole events from `bytes`; returns how many bytes they took.
    private static func parse(_ bytes: [UInt8], into writes: inout TrackedWrites, now: Date, monotonicNow: UInt64, device: String) throws -> Int {
        var at = 0
        try bytes.withUnsafeBytes { raw in
            while raw.count - at >= eventSize {
                func u32(_ offset: Int) -> UInt32 { raw.loadUnaligned(fromByteOffset: at + offset, as: UInt32.self) }
                func u64(_ offset: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: at + offset, as: UInt64.self) }
                guard u32(0) & 0xFFFF_FF00 == magic else {
                    let shown = (0..<min(16, raw.count - at)).map { String(format: "%02x", raw[at + $0]) }.joined()
                    var lost = WriteTrackingLost("the block layer's trace of \(device) holds bytes that are not an event")
                    lost.detail = "at byte \(at) of \(raw.count): \(shown)"
                    throw lost
                }
                let pduLength = Int(raw.loadUnaligned(fromByteOffset: at + 46, as: UInt16.self))
                guard raw.count - at >= eventSize + pduLength else { break }
                let time = u64(8), sector = u64(16), length = u32(24), action = u32(28)
                let kind = action & 0xFFFF
                if (action >> 16) & categoryWrite != 0, kind == actionQueue || kind == actionComplete, length > 0 {
                    writes.record(offset: sector * 512, bytes: UInt64(length))
                    let seen = now.addingTimeInterval(-Double(monotonicNow &- min(time, monotonicNow)) / 1e9)
                    writes.oldest = min(writes.oldest ?? seen, seen)
                }
                at += eventSize + pduLength
            }
        }
        return at
    }

    /// Events the kernel could not put in the relay buffers since the trace started (a few
    /// bytes of text, read with open and read: no Foundation file machinery five times a second).
    private static func dropped(in directory: String) -> UInt64? {
        let file = open("\(directory)/dropped", O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var text = [UInt8](repeating: 0, count: 32)
        let n = text.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return UInt64(String(decoding: text[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private static func startTrace(fd: Int32, device: String) throws(Unavailable) -> String {
        var setupBytes = [UInt8](repeating: 0, count: setupSize)
        setupBytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt16(categoryWrite), toByteOffset: 32, as: UInt16.self)
            raw.storeBytes(of: UInt32(1 << 20), toByteOffset: 36, as: UInt32.self)  // 1 MiB sub-buffers…
            raw.storeBytes(of: UInt32(8), toByteOffset: 40, as: UInt32.self)        // …8 per CPU
        }
        var result = setupBytes.withUnsafeMutableBytes { ioctl(fd, setup, $0.baseAddress!) }
        if result != 0 && errno == EBUSY {
            // A trace is set up already: the one an agent killed before it could stop it
            // (the kernel keeps it). Replace it.
            _ = ioctl(fd, stop)
            _ = ioctl(fd, teardown)
            result = setupBytes.withUnsafeMutableBytes { ioctl(fd, setup, $0.baseAddress!) }
        }
        guard result == 0 else {
            let code = errno
            let why = code == ENOTTY || code == EINVAL ? "this kernel has no block layer tracing (CONFIG_BLK_DEV_IO_TRACE)" : String(cString: strerror(code))
            throw Unavailable(description: "the block layer's trace of \(device) cannot be set up: \(why)")
        }
        guard ioctl(fd, start) == 0 else {
            throw Unavailable(description: "the block layer's trace of \(device) cannot start: \(String(cString: strerror(errno)))")
        }
        let name = setupBytes[0..<32].prefix { $0 != 0 }
        return String(decoding: name, as: UTF8.self)
    }

    private static func mountDebugfsIfNeeded() throws(Unavailable) {
        if access("\(debugfs)/block", F_OK) == 0 { return }
        guard mount("debugfs", debugfs, "debugfs", 0, nil) == 0 || access("\(debugfs)/block", F_OK) == 0 else {
            throw Unavailable(description: "debugfs is not mounted and cannot be (\(String(cString: strerror(errno))))")
        }
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
