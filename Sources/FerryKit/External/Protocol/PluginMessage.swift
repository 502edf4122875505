import FerryCore
import Foundation

/// The JSON-RPC 2.0 envelopes of the plugin protocol (docs/plugin-protocol.md).
struct PluginRequest<Params: Encodable>: Encodable {
    var jsonrpc = "2.0"
    var id: Int
    var method: String
    var params: Params
}

struct PluginResponse<Result: Decodable>: Decodable {
    var jsonrpc: String
    var id: Int?
    var result: Result?
    var error: PluginRemoteError?
}

/// What a plugin says went wrong, with the protocol's error code.
public struct PluginRemoteError: Decodable, Hashable, Sendable {
    public var code: Int
    public var message: String
    /// With UnsupportedProtocolVersion: the versions the plugin speaks.
    public var supportedVersions: [Int]?

    private enum CodingKeys: String, CodingKey { case code, message, data }
    private struct VersionData: Decodable { var supported: [Int]? }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decode(Int.self, forKey: .code)
        message = try container.decode(String.self, forKey: .message)
        supportedVersions = (try? container.decodeIfPresent(VersionData.self, forKey: .data))?.supported
    }
}

/// The error codes of docs/plugin-protocol.md, "Errors".
public enum PluginErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    public static let notFound = -32001
    public static let outOfBounds = -32002
    public static let ioError = -32003
    public static let invalidOption = -32004
    public static let unsupported = -32005
    public static let corrupt = -32006
    public static let unsupportedProtocolVersion = -32010

    static func name(_ code: Int) -> String {
        switch code {
        case parseError: return "ParseError"
        case invalidRequest: return "InvalidRequest"
        case methodNotFound: return "MethodNotFound"
        case invalidParams: return "InvalidParams"
        case internalError: return "InternalError"
        case notFound: return "NotFound"
        case outOfBounds: return "OutOfBounds"
        case ioError: return "IOError"
        case invalidOption: return "InvalidOption"
        case unsupported: return "Unsupported"
        case corrupt: return "Corrupt"
        case unsupportedProtocolVersion: return "UnsupportedProtocolVersion"
        default: return "error \(code)"
        }
    }
}

/// A result with nothing in it (`{}`), for methods that only succeed or fail.
struct PluginEmpty: Codable, Sendable {}
