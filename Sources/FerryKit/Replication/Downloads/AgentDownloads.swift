import Crypto
import FerryCore
import FerryReplication
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// What the replication server hands out over HTTPS on its own port (ALPN `http/1.1`), so
/// that a source machine needs one rule, TCP 1500 to the staging subnet, to install the agent
/// and to replicate: `GET /installer` (the script), `GET /agent` (the agent executable) and
/// `GET /agent.sha256`. Nothing here needs the token: the token is what the agent presents
/// when it registers, and these files hold no secret.
final class AgentDownloads: Sendable {
    /// The agent executable handed out, or nil when this installation has none.
    let agentBinary: URL?
    let pin: CertificatePin
    /// The address written into the installer when a request names none (no Host header).
    let advertisedAddress: String
    private let digest = Mutex<(path: String, size: UInt64, modified: Date, sha256: String)?>(nil)

    init(agentBinary: URL?, pin: CertificatePin, advertisedAddress: String) {
        self.agentBinary = agentBinary
        self.pin = pin
        self.advertisedAddress = advertisedAddress
    }

    /// The agent executable to hand out: the one FERRY_AGENT_BINARY names, else the one
    /// `make agent` builds (.build-agent/release, beside this checkout's .build), else the
    /// one beside this executable (an installed ferry has its agent beside it).
    static func findAgentBinary(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let named = environment["FERRY_AGENT_BINARY"], !named.isEmpty { return URL(fileURLWithPath: named) }
        let folders = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap { $0?.resolvingSymlinksInPath().deletingLastPathComponent() }
        // In a checkout ferry is .build/<triple>/debug/ferry: the agent is in .build-agent
        // beside .build, a few folders up.
        let candidates = folders.flatMap { folder in
            (1...4).map { up in
                folder.appendingPathComponent(String(repeating: "../", count: up) + ".build-agent/release/ferry-agent").standardizedFileURL
            } + [folder.appendingPathComponent("ferry-agent")]
        }
        let present = candidates.filter { FileManager.default.isExecutableFile(atPath: $0.path) }
        return present.first { linksNoSwiftRuntime($0) } ?? present.first
    }

    /// Whether `executable` carries the Swift runtime inside (--static-swift-stdlib): a source
    /// machine has no Swift, so an agent that needs libswiftCore.so would not start there. The
    /// names of the libraries an ELF file needs sit in its first pages (.dynstr).
    static func linksNoSwiftRuntime(_ executable: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: executable), let head = try? handle.read(upToCount: 8 << 20) else { return false }
        try? handle.close()
        return head.range(of: Data("libswiftCore.so".utf8)) == nil
    }

    /// Serves the requests of one connection until the client closes it.
    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let request): head = request
                case .body: break
                case .end:
                    guard let request = head else { continue }
                    head = nil
                    try await respond(to: request, outbound: outbound)
                    if !request.isKeepAlive { return }
                }
            }
        }
    }

    private func respond(to request: HTTPRequestHead, outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        guard request.method == .GET || request.method == .HEAD else {
            return try await send(.methodNotAllowed, "only GET is served here\n", to: outbound, request: request)
        }
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        switch path {
        case "/installer", "/agent", "/agent.sha256":
            var missing: String?
            let sha256 = agentBinary.flatMap { try? agentDigest(of: $0) }
            if let binary = agentBinary, sha256 != nil {
                if !Self.linksNoSwiftRuntime(binary) {
                    missing = "the agent executable \(binary.path) on the replication server needs the Swift runtime (libswiftCore.so), which a source machine does not have: build it with `make agent` (--static-swift-stdlib)"
                }
            } else {
                missing = "the replication server has no agent executable to hand out: build it with `make agent` in Ferry's checkout, or name it with FERRY_AGENT_BINARY when you start the server"
            }
            guard let binary = agentBinary, let sha256, missing == nil else {
                let reason = missing ?? "no agent"
                // The installer says so itself, where the user runs it; curl -f shows only a status.
                if path == "/installer" {
                    return try await send(.ok, "#!/bin/sh\necho \"ferry installer: \(reason.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "`", with: "'"))\" >&2\nexit 1\n",
                                          to: outbound, request: request, type: "text/x-shellscript")
                }
                return try await send(.serviceUnavailable, reason + "\n", to: outbound, request: request)
            }
            switch path {
            case "/installer":
                let host = request.headers.first(name: "host") ?? advertisedAddress
                guard AgentInstallerScript.isSafeAddress(host) else {
                    return try await send(.badRequest, "the Host header is not a host and port\n", to: outbound, request: request)
                }
                let address = host.contains(":") && !host.hasSuffix("]") ? host : "\(host):\(advertisedAddress.split(separator: ":").last ?? "1500")"
                try await send(.ok, AgentInstallerScript.text(server: address, pin: pin, agentSHA256: sha256), to: outbound, request: request, type: "text/x-shellscript")
            case "/agent.sha256":
                try await send(.ok, "\(sha256)  ferry-agent\n", to: outbound, request: request)
            default:
                try await sendFile(binary, to: outbound, request: request)
            }
        default:
            try await send(.notFound, "not found: this server hands out /installer, /agent and /agent.sha256\n", to: outbound, request: request)
        }
    }

    private func send(_ status: HTTPResponseStatus, _ text: String, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
                      request: HTTPRequestHead, type: String = "text/plain; charset=utf-8") async throws {
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(text.utf8.count))])
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
        if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text)))) }
        try await outbound.write(.end(nil))
    }

    /// Streams the file in 256 KiB pieces: each write waits while the client is behind, so
    /// memory stays bounded whatever the file's size.
    private func sendFile(_ file: URL, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, request: HTTPRequestHead) async throws {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        var headers = HTTPHeaders([("Content-Type", "application/octet-stream"), ("Content-Length", String(size))])
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers)))
        if request.method != .HEAD {
            var remaining = size
            while remaining > 0, let data = try handle.read(upToCount: Int(min(remaining, 256 << 10))), !data.isEmpty {
                remaining -= UInt64(data.count)
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: data))))
            }
        }
        try await outbound.write(.end(nil))
    }

    /// The executable's SHA-256, computed again only when the file changed.
    private func agentDigest(of file: URL) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        let size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        let modified = attributes[.modificationDate] as? Date ?? .distantPast
        if let known = digest.withLock({ $0 }), known.path == file.path, known.size == size, known.modified == modified { return known.sha256 }
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hasher.update(data: data) }
        let sha256 = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        digest.withLock { $0 = (file.path, size, modified, sha256) }
        return sha256
    }
}
