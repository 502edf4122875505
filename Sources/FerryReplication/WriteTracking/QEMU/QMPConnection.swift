import Foundation
import Synchronization

/// A connection to a QEMU process's monitor in its machine protocol (QMP): JSON objects, one
/// per line, a greeting, then `execute` and its `return` or `error`, with asynchronous events
/// interleaved (skipped here). Written by hand: QMP is a few lines of JSON framing, and no
/// package on this machine speaks it.
final class QMPConnection: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let stream: Mutex<UnixStream>
    let socket: String

    init(socket: String) throws(Failure) {
        self.socket = socket
        let stream: UnixStream
        do {
            stream = try UnixStream(connectingTo: socket)
            let greeting = try stream.readLine()
            guard let object = try? JSONSerialization.jsonObject(with: Data(greeting)) as? [String: Any], object["QMP"] != nil else {
                throw Failure(description: "\(socket) is not a QEMU monitor (QMP): it greeted with \(String(decoding: greeting.prefix(80), as: UTF8.self))")
            }
        } catch let failure as UnixStream.Failure {
            throw Failure(description: "the QEMU monitor \(failure.description)")
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(socket): \(error)")
        }
        self.stream = Mutex(stream)
        _ = try execute("qmp_capabilities")
    }

    /// Runs `command` and returns its `return` value.
    /// - Throws: `Failure` with QEMU's own words when it answers with an error.
    @discardableResult
    func execute(_ command: String, _ arguments: [String: Any] = [:]) throws(Failure) -> Any {
        let request: [String: Any] = arguments.isEmpty ? ["execute": command] : ["execute": command, "arguments": arguments]
        let line: Data
        do { line = try JSONSerialization.data(withJSONObject: request) } catch { throw Failure(description: "\(command): \(error)") }
        do {
            return try stream.withLock { (stream) throws -> Any in
                try stream.write(Array(line) + [UInt8(ascii: "\n")])
                while true {
                    let reply = try stream.readLine()
                    guard let object = try JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any] else { continue }
                    if object["event"] != nil { continue }
                    if let error = object["error"] as? [String: Any] {
                        throw Failure(description: "QEMU refused \(command): \(error["desc"] as? String ?? "\(error)")")
                    }
                    if let value = object["return"] { return value }
                }
            }
        } catch let failure as Failure {
            throw failure
        } catch let failure as UnixStream.Failure {
            throw Failure(description: "the QEMU monitor \(failure.description)")
        } catch {
            throw Failure(description: "\(command): \(error)")
        }
    }

    /// Runs `command` for cleaning up: a failure is ignored (what it removes may be gone already).
    func bestEffort(_ command: String, _ arguments: [String: Any] = [:]) {
        _ = try? execute(command, arguments)
    }
}
