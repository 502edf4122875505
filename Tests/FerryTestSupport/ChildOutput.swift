import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Everything a child started with `Process` prints on its standard output and standard
/// error, read from both pipes at once, and its exit status, within a time limit.
///
/// Reading one pipe to its end before the other deadlocks when the child fills the other's
/// 64 KiB buffer; and a child that never ends (or one that leaves a grandchild holding the
/// pipe) would hang the whole test run, where a time limit of swift-testing cannot reach a
/// thread blocked in `read`. Past the limit the child is killed and the test fails with the
/// command and the last of what it printed.
public enum ChildOutput {
    public struct TimedOut: Error, CustomStringConvertible {
        public let command: String
        public let seconds: Int
        public let output: String
        public var description: String { "\(command) did not finish within \(seconds) s; it printed last:\n\(output.suffix(3000))" }
    }

    public struct Collected {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
    }

    /// Collects until both pipes end and the child exits. `errors` may be the same pipe as `output`.
    public static func collect(_ process: Process, output: Pipe, errors: Pipe?, timeoutSeconds: Int) throws -> Collected {
        let deadline = Date().addingTimeInterval(TimeInterval(timeoutSeconds))
        var streams: [(fd: Int32, data: Data, open: Bool)] = [(output.fileHandleForReading.fileDescriptor, Data(), true)]
        if let errors, errors !== output { streams.append((errors.fileHandleForReading.fileDescriptor, Data(), true)) }
        var killedAt: Date?
        var buffer = [UInt8](repeating: 0, count: 65536)
        while streams.contains(where: { $0.open }) {
            if killedAt == nil, Date() >= deadline {
                kill(process.processIdentifier, SIGKILL)
                killedAt = Date()
            }
            // After the kill, a grandchild may still hold a pipe open: give it a moment, then stop reading.
            if let killedAt, Date().timeIntervalSince(killedAt) > 5 { break }
            var fds = streams.filter { $0.open }.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            if ready < 0 && errno != EINTR { break }
            guard ready > 0 else { continue }
            for polled in fds where polled.revents != 0 {
                guard let index = streams.firstIndex(where: { $0.fd == polled.fd }) else { continue }
                let count = read(polled.fd, &buffer, buffer.count)
                if count > 0 {
                    streams[index].data.append(contentsOf: buffer[0..<count])
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    streams[index].open = false
                }
            }
        }
        if killedAt == nil, Date() >= deadline { kill(process.processIdentifier, SIGKILL); killedAt = Date() }
        let status = ChildExit.wait(for: process)
        if killedAt != nil {
            let command = ([process.executableURL?.lastPathComponent ?? "?"] + (process.arguments ?? [])).joined(separator: " ")
            let printed = streams.map { String(decoding: $0.data, as: UTF8.self) }.joined(separator: "\n")
            throw TimedOut(command: command, seconds: timeoutSeconds, output: printed)
        }
        return Collected(status: status, stdout: streams[0].data, stderr: streams.count > 1 ? streams[1].data : Data())
    }
}
