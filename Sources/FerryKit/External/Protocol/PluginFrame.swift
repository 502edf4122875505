import FerryCore
import Foundation

/// One message of the plugin protocol on the wire: a header block (`Content-Length`, and
/// `Binary-Length` when block data rides along), the JSON-RPC text, then the raw bytes.
/// Written by hand: it is LSP's framing plus a binary part, which no package here speaks.
/// See docs/plugin-protocol.md, "Framing".
public struct PluginFrame: Sendable {
    public static let maximumHeaderBytes = 1024
    public static let maximumJSONBytes = 16 << 20
    public static let maximumBinaryBytes = 16 << 20

    /// The header block for a message of `jsonCount` JSON bytes and `binaryCount` raw bytes.
    public static func header(jsonCount: Int, binaryCount: Int) -> [UInt8] {
        var text = "Content-Length: \(jsonCount)\r\n"
        if binaryCount > 0 { text += "Binary-Length: \(binaryCount)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The lengths a parsed header block announces.
    public struct Lengths: Equatable, Sendable {
        public var json: Int
        public var binary: Int
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case headerTooLong
        case malformedHeaderLine(String)
        case missingContentLength
        case badLength(name: String, value: String)
        case tooLarge(name: String, value: Int, limit: Int)

        public var description: String {
            switch self {
            case .headerTooLong: return "a header block longer than \(PluginFrame.maximumHeaderBytes) bytes"
            case .malformedHeaderLine(let line): return "a header line that is not 'Name: value': \(line.debugDescription)"
            case .missingContentLength: return "a header block without Content-Length"
            case .badLength(let name, let value): return "\(name) is not a number: \(value.debugDescription)"
            case .tooLarge(let name, let value, let limit): return "\(name) \(value) is over the limit of \(limit)"
            }
        }
    }

    /// Parses a header block (without its final empty line). Unknown headers are ignored.
    public static func parseHeader(_ block: [UInt8]) throws(Failure) -> Lengths {
        guard block.count <= maximumHeaderBytes else { throw .headerTooLong }
        var json: Int?
        var binary = 0
        let text = String(decoding: block, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeaderLine(String(line)) }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch name {
            case "content-length":
                guard let number = Int(value), number >= 0 else { throw .badLength(name: "Content-Length", value: value) }
                guard number <= maximumJSONBytes else { throw .tooLarge(name: "Content-Length", value: number, limit: maximumJSONBytes) }
                json = number
            case "binary-length":
                guard let number = Int(value), number >= 0 else { throw .badLength(name: "Binary-Length", value: value) }
                guard number <= maximumBinaryBytes else { throw .tooLarge(name: "Binary-Length", value: number, limit: maximumBinaryBytes) }
                binary = number
            default:
                continue
            }
        }
        guard let json else { throw .missingContentLength }
        return Lengths(json: json, binary: binary)
    }
}
