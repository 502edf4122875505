import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import CLinuxThread
import Synchronization

/// A disk's writes from the Linux block layer's own trace: the BLKTRACESETUP ioctl that
/// blktrace(8) uses, read from the per-CPU relay files under debugfs, each from its own CPU
/// (`take` says why). Mainline since 2.6.17,
/// built into Debian's, Ubuntu's and RHEL's kernels, nothing to compile and nothing to
/// change on the disk; it sees every write as it is queued and completed, from a file
/// system, swap or a raw writer alike. Chosen over dm-era and device-mapper snapshots, which
/// need the disk to be a device-mapper device already (a plain /dev/sda1 root is not).
/// The ioctl numbers and the setup structure are Linux's <linux/blktrace_api.h>, written here
/// by hand: no package has them.
public final class BlockTraceWriteTracker: WriteTracker, Sendable {
    public let mechanism: String
    private let device: String
    private let fd: Int32
    private let traceDirectory: String
    private let state: Mutex<TraceState>

    private struct TraceState {
        var files: [CPUFile]
        var dropped: UInt64
        /// The read buffer, kept: take() runs five times a second, mostly to find nothing.
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
    }

    /// One CPU's relay file and where its reading stands.
    private struct CPUFile {
        let cpu: Int32
        let descriptor: Int32
        var stream: BlockTraceStream
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
    private static let debugfs = "/sys/kernel/debug"

    /// Starts tracing `device` (a whole disk: its partitions' writes are traced at the disk's offsets).
    public init(device: String) throws(Unavailable) {
        self.device = device
        let fd = open(device, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Unavailable(description: "\(device) cannot be opened (\(String(cString: strerror(errno))))") }
        let directory: String
        var files: [CPUFile] = []
        let dropped: UInt64
        do throws(Unavailable) {
            try Self.mountDebugfsIfNeeded()
            let name = try Self.startTrace(fd: fd, device: device)
            directory = "\(Self.debugfs)/block/\(name)"
            var refused: String?
            for cpu in 0..<Int32(max(1, sysconf(Int32(_SC_NPROCESSORS_CONF)))) {
                let file = open("\(directory)/trace\(cpu)", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
                if file >= 0 { files.append(CPUFile(cpu: cpu, descriptor: file, stream: BlockTraceStream(mechanism: "the block layer's trace of \(device)"))) } else if errno != ENOENT { refused = String(cString: strerror(errno)) }
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
            files.forEach { close($0.descriptor) }
            _ = ioctl(fd, Self.stop)
            _ = ioctl(fd, Self.teardown)
            close(fd)
            throw error
        }
        self.fd = fd
        traceDirectory = directory
        mechanism = "the block layer's trace of \(device)"
        state = Mutex(TraceState(files: files, dropped: dropped))
    }

    deinit {
        state.withLock { state in state.files.forEach { close($0.descriptor) } }
        _ = ioctl(fd, Self.stop)
        _ = ioctl(fd, Self.teardown)
        close(fd)
    }

    /// Reads each CPU's relay file from that CPU. The kernel reserves an event's bytes in the
    /// buffer (relay_reserve moves the end a reader sees) and only then writes them, with
    /// interrupts off on its own CPU but nothing holding back a reader on another: read(2)
    /// from elsewhere can hand over an event half written — a stale sector, or a stale length
    /// that sends the parser into the middle of the next event — and what it returned cannot
    /// be read again. Under a virtual machine's scheduler, which can stop a vCPU between the
    /// reservation and the writes, that happened every few minutes of heavy writing (the
    /// agent rescanned the disk each time). A CPU that runs this thread is not inside such a
    /// reservation, so what its own file returns then is whole. (Mapping the buffers instead is
    /// refused: debugfs's proxy offers no mmap.)
    public func take() throws -> TrackedWrites {
        var writes = TrackedWrites()
        let now = Date()
        let monotonicNow = Self.monotonicNanoseconds()
        try state.withLock { state in
            for slot in state.files.indices {
                let cpu = state.files[slot].cpu
                var saved = ferry_cpu_mask()
                // EINVAL: that CPU went offline; it writes nothing more, what it wrote is whole.
                let pinned = ferry_pin_thread(cpu, &saved)
                defer { if pinned == 0 { _ = ferry_restore_thread(&saved) } }
                if pinned != 0 && pinned != EINVAL {
                    throw WriteTrackingLost("the block layer's trace of \(device) cannot be read from CPU \(cpu) (\(String(cString: strerror(pinned))))")
                }
                while true {
                    let n = state.chunk.withUnsafeMutableBytes { read(state.files[slot].descriptor, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    do throws(WriteTrackingLost) {
                        try state.files[slot].stream.feed(state.chunk[0..<n], into: &writes, now: now, monotonicNow: monotonicNow)
                    } catch {
                        // Say where, for whoever reads the source server's record: which CPU's
                        // file, how much was read, and what was found.
                        throw WriteTrackingLost("\(error.reason) (trace\(cpu): \(n) bytes read, \(error.detail))")
                    }
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
            raw.storeBytes(of: UInt16(BlockTraceStream.categoryWrite), toByteOffset: 32, as: UInt16.self)
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
