import FerryCore
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One conversation with one plugin process: a request, then its response, one at a time
/// (the lock makes concurrent callers take turns). Every wait has a deadline; after a
/// crash, a timeout or a broken message the process is killed and every later call fails
/// with that first reason, so a bad plugin can neither hang Ferry nor feed it stale data.
final class PluginConnection: @unchecked Sendable {
    let plugin: String
    let path: String
    let timeouts: PluginTimeouts

    private let lock = NSLock()
    private var process: PluginProcess?
    private var failureReason: PluginError?
    private var nextID = 1
    /// What was read from the plugin's stdout and not used yet: `buffer[bufferStart..<bufferEnd]`.
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)
    private var bufferStart = 0
    private var bufferEnd = 0

    private static let ignoreSIGPIPE: Void = {
        // A plugin that dies while Ferry writes to it must give EPIPE, not kill Ferry.
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Starts the plugin. Nothing is said to it yet; `describe` is the caller's first call.
    init(plugin: String, path: String, timeouts: PluginTimeouts) throws(PluginError) {
        Self.ignoreSIGPIPE
        self.plugin = plugin
        self.path = path
        self.timeouts = timeouts
        do {
            process = try PluginProcess.start(path: path, protocolVersion: PluginProtocol.currentVersion)
        } catch {
            throw PluginError(plugin: plugin, path: path, reason: .cannotStart(error.reason))
        }
    }

    deinit {
        shutdown()
    }

    /// Whether an earlier failure (or a shutdown) stopped this conversation.
    var isStopped: Bool { lock.withLock { failureReason != nil || process == nil } }

    /// What stopped this conversation, when something did.
    var failure: PluginError? { lock.withLock { failureReason } }

    /// Sends `method` with `params` and decodes the result as `R`.
    ///
    /// - Parameters:
    ///   - attachment: raw bytes to send as the request's binary part.
    ///   - sink: where the response's binary part goes; it must be exactly this long. Without
    ///     a sink the response must have no binary part.
    func call<P: Encodable, R: Decodable>(
        _ method: String, _ params: P, as type: R.Type = R.self,
        attachment: UnsafeRawBufferPointer? = nil, into sink: UnsafeMutableRawBufferPointer? = nil,
        timeout: Double? = nil
    ) throws(PluginError) -> R {
        lock.lock()
        defer { lock.unlock() }
        if let failureReason { throw PluginError(plugin: plugin, path: path, method: method, reason: .stopped(after: failureReason.reasonText)) }
        guard let process else { throw PluginError(plugin: plugin, path: path, method: method, reason: .stopped(after: "it was shut down")) }
        let id = nextID
        nextID += 1
        let deadline = Deadline(seconds: timeout ?? timeouts.call)
        process.trimStderr()
        do {
            try send(PluginRequest(id: id, method: method, params: params), attachment: attachment, to: process, deadline: deadline)
            return try receive(id: id, as: R.self, sink: sink, from: process, deadline: deadline)
        } catch let failure as ConnectionFailure {
            throw stop(process, method: method, failure.reason(process: process, seconds: timeout ?? timeouts.call))
        } catch var error as PluginError {
            error.method = method
            throw error
        } catch {
            throw stop(process, method: method, .protocolViolation(String(describing: error)))
        }
    }

    /// Stops the conversation because an answer contradicted the plugin's own claims: the
    /// process is killed, and the error names what was wrong.
    func fail(method: String, _ what: String) -> PluginError {
        lock.lock()
        defer { lock.unlock() }
        guard let process else {
            return PluginError(plugin: plugin, path: path, method: method, reason: .inconsistent(what))
        }
        return stop(process, method: method, .inconsistent(what))
    }

    /// Says `shutdown` (briefly), closes stdin and makes sure the process is gone.
    func shutdown() {
        lock.withLock {
            guard let process else { return }
            // Two seconds in all: `shutdown`, then the end of its input, then its exit.
            let deadline = Deadline(seconds: 2)
            if failureReason == nil {
                let id = nextID
                nextID += 1
                try? send(PluginRequest(id: id, method: "shutdown", params: PluginEmpty()), attachment: nil, to: process, deadline: deadline)
                process.closeInput()
                _ = try? receive(id: id, as: PluginEmpty.self, sink: nil, from: process, deadline: deadline)
            }
            process.closeInput()
            process.terminate(grace: Double(deadline.remainingMilliseconds) / 1000)
            self.process = nil
        }
    }

    // MARK: - Failure

    /// Kills the process and remembers why, for every later call.
    private func stop(_ process: PluginProcess, method: String, _ reason: PluginError.Reason) -> PluginError {
        var reason = reason
        let status: String
        if case .exited = reason {
            status = process.terminate(grace: 1)
            reason = .exited(status: status)
        } else {
            process.terminate(grace: 0)
        }
        let error = PluginError(plugin: plugin, path: path, method: method, reason: reason, stderrTail: process.stderrTail())
        failureReason = error
        self.process = nil
        // A stopped conversation may be kept a long time (a reader keeps each process's
        // handle); its buffer is of no more use.
        buffer = []
        bufferStart = 0
        bufferEnd = 0
        return error
    }

    /// A failure of the conversation itself, turned into a `PluginError.Reason` once the
    /// process can be asked how it ended.
    private enum ConnectionFailure: Error {
        case timedOut
        case endOfOutput
        case brokenPipe
        case io(String)
        case violation(String)
        case inconsistent(String)

        func reason(process: PluginProcess, seconds: Double) -> PluginError.Reason {
            switch self {
            case .timedOut: return .timedOut(seconds: seconds)
            case .endOfOutput, .brokenPipe: return .exited(status: "")
            case .io(let what): return .protocolViolation(what)
            case .violation(let what): return .protocolViolation(what)
            case .inconsistent(let what): return .inconsistent(what)
            }
        }
    }

    // MARK: - Writing

    private func send<P: Encodable>(_ request: PluginRequest<P>, attachment: UnsafeRawBufferPointer?, to process: PluginProcess, deadline: Deadline) throws {
        let json = try Self.encoder.encode(request)
        let header = PluginFrame.header(jsonCount: json.count, binaryCount: attachment?.count ?? 0)
        try header.withUnsafeBytes { try write($0, to: process, deadline: deadline) }
        try json.withUnsafeBytes { try write($0, to: process, deadline: deadline) }
        if let attachment, attachment.count > 0 { try write(attachment, to: process, deadline: deadline) }
    }

    private func write(_ bytes: UnsafeRawBufferPointer, to process: PluginProcess, deadline: Deadline) throws(ConnectionFailure) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(process.input, bytes.baseAddress! + done, bytes.count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EPIPE { throw .brokenPipe }
            if n < 0 && errno != EAGAIN { throw .io(PluginProcess.errnoText("write")) }
            try wait(for: Int16(POLLOUT), on: process.input, of: process, deadline: deadline)
        }
    }

    // MARK: - Reading

    private func receive<R: Decodable>(id: Int, as type: R.Type, sink: UnsafeMutableRawBufferPointer?, from process: PluginProcess, deadline: Deadline) throws -> R {
        let lengths: PluginFrame.Lengths
        do {
            lengths = try PluginFrame.parseHeader(try readHeaderBlock(from: process, deadline: deadline))
        } catch let failure as PluginFrame.Failure {
            throw ConnectionFailure.violation("it wrote \(failure) on stdout")
        }
        var json = [UInt8](repeating: 0, count: lengths.json)
        try json.withUnsafeMutableBytes { try readExactly(into: $0, from: process, deadline: deadline) }
        let response: PluginResponse<R>
        do {
            response = try Self.decoder.decode(PluginResponse<R>.self, from: Data(json))
        } catch {
            throw ConnectionFailure.violation("its answer is not a well-formed JSON-RPC response: \(Self.explain(error)) in \(Self.excerpt(json))")
        }
        guard response.jsonrpc == "2.0" else { throw ConnectionFailure.violation("its answer has jsonrpc \(response.jsonrpc.debugDescription), not \"2.0\"") }
        guard response.id == id else { throw ConnectionFailure.violation("it answered request \(response.id.map(String.init) ?? "null") when request \(id) was asked") }
        if let error = response.error {
            guard lengths.binary == 0 else { throw ConnectionFailure.violation("an error answer carries \(lengths.binary) bytes of binary data") }
            var remote = PluginError(plugin: plugin, path: path, reason: .remote(code: error.code, message: error.message))
            remote.remoteSupportedVersions = error.supportedVersions
            throw remote
        }
        if let sink {
            guard lengths.binary == sink.count else {
                throw ConnectionFailure.inconsistent("it sent \(lengths.binary) bytes for a read of \(sink.count) bytes")
            }
            try readExactly(into: sink, from: process, deadline: deadline)
        } else if lengths.binary > 0 {
            throw ConnectionFailure.violation("its answer carries \(lengths.binary) bytes of binary data where none belongs")
        }
        guard let result = response.result else { throw ConnectionFailure.violation("its answer has neither a result nor an error") }
        return result
    }

    /// The header block up to (not including) the empty line that ends it.
    private func readHeaderBlock(from process: PluginProcess, deadline: Deadline) throws -> [UInt8] {
        compactBuffer()
        var searchFrom = 0
        while true {
            if let end = headerEnd(from: searchFrom) {
                let block = Array(buffer[bufferStart..<end])
                bufferStart = end + 4
                return block
            }
            guard bufferEnd - bufferStart <= PluginFrame.maximumHeaderBytes + 4 else {
                throw ConnectionFailure.violation("it wrote \(Self.excerpt(Array(buffer[bufferStart..<bufferEnd]))) on stdout, which is not a protocol message header")
            }
            searchFrom = max(bufferStart, bufferEnd - 3)
            try refuseNonHeaderLine()
            try fill(from: process, deadline: deadline)
        }
    }

    /// Fails as soon as a complete line is not `Name: value`, rather than waiting for more of
    /// what is plainly not a protocol message (a plugin printing to stdout).
    private func refuseNonHeaderLine() throws {
        var lineStart = bufferStart
        for index in bufferStart..<bufferEnd where buffer[index] == 10 {
            let line = buffer[lineStart..<index]
            if !line.isEmpty && line != [13] && !line.contains(58) {
                throw ConnectionFailure.violation("it wrote \(Self.excerpt(Array(buffer[bufferStart..<bufferEnd]))) on stdout, which is not a protocol message header")
            }
            lineStart = index + 1
        }
    }

    /// Moves unread bytes to the front of the buffer.
    private func compactBuffer() {
        guard bufferStart > 0 else { return }
        let count = bufferEnd - bufferStart
        buffer.withUnsafeMutableBytes { raw in
            if count > 0 { memmove(raw.baseAddress!, raw.baseAddress! + bufferStart, count) }
        }
        bufferStart = 0
        bufferEnd = count
    }

    /// Where "\r\n\r\n" starts in the unread bytes, looking from `from`.
    private func headerEnd(from: Int) -> Int? {
        var i = max(from, bufferStart)
        while i + 3 < bufferEnd {
            if buffer[i] == 13, buffer[i + 1] == 10, buffer[i + 2] == 13, buffer[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// Reads more of the plugin's stdout after the unread bytes.
    private func fill(from process: PluginProcess, deadline: Deadline) throws {
        let end = bufferEnd
        let n = try buffer.withUnsafeMutableBytes { raw -> Int in
            try readSome(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]), from: process, deadline: deadline)
        }
        bufferEnd += n
    }

    private func readExactly(into destination: UnsafeMutableRawBufferPointer, from process: PluginProcess, deadline: Deadline) throws {
        var done = min(bufferEnd - bufferStart, destination.count)
        if done > 0 {
            let start = bufferStart
            buffer.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(rebasing: destination[0..<done]).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + done)]))
            }
            bufferStart += done
        }
        while done < destination.count {
            done += try readSome(into: UnsafeMutableRawBufferPointer(rebasing: destination[done...]), from: process, deadline: deadline)
        }
    }

    /// Reads at least one byte, waiting until the deadline.
    private func readSome(into destination: UnsafeMutableRawBufferPointer, from process: PluginProcess, deadline: Deadline) throws(ConnectionFailure) -> Int {
        while true {
            let n = Glibc.read(process.output, destination.baseAddress, destination.count)
            if n > 0 { return n }
            if n == 0 { throw .endOfOutput }
            if errno == EINTR { continue }
            guard errno == EAGAIN else { throw .io(PluginProcess.errnoText("read")) }
            try wait(for: Int16(POLLIN), on: process.output, of: process, deadline: deadline)
        }
    }

    /// Waits for `fd` to be ready, until the deadline or the process's end. The end of its
    /// stdout is not enough to tell a crash: a helper the plugin started may hold the pipe
    /// open, and the call would then fail only at its deadline, as a hang.
    private func wait(for events: Int16, on fd: Int32, of process: PluginProcess, deadline: Deadline) throws(ConnectionFailure) {
        while true {
            let remaining = deadline.remainingMilliseconds
            guard remaining > 0 else { throw .timedOut }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&entry, 1, Int32(min(remaining, 100)))
            if n > 0 { return }
            if n < 0 && errno != EINTR { throw .io(PluginProcess.errnoText("poll")) }
            if n == 0 && process.exitedStatus() != nil {
                // It may have written its last bytes just before it ended.
                var last = pollfd(fd: fd, events: events, revents: 0)
                if poll(&last, 1, 0) > 0 { return }
                throw events == Int16(POLLOUT) ? .brokenPipe : .endOfOutput
            }
        }
    }

    // MARK: - JSON

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    static func explain(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context)?:
            return "\(path(context.codingPath)) is not \(type)"
        case .valueNotFound(let type, let context)?:
            return "\(path(context.codingPath)) is null where \(type) belongs"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? "it is not JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
    }

    static func excerpt(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(120), as: UTF8.self)
        return text.debugDescription + (bytes.count > 120 ? "…" : "")
    }
}
