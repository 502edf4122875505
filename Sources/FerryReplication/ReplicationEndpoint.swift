/// A replication server's address as people write it: `host:port` (IPv6 in brackets).
public struct ReplicationEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `text`; `option` names where it came from (`--server`, an input) for the error.
    public init(parsing text: String, option: String) throws(ReplicationEndpointError) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ReplicationEndpointError(text: text, option: option)
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ReplicationEndpointError(text: text, option: option) }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct ReplicationEndpointError: Error, Hashable, Sendable, CustomStringConvertible {
    public var text: String
    public var option: String

    public var description: String {
        "\(option) must be host:port, like 127.0.0.1:1500, not '\(text)'"
    }
}
