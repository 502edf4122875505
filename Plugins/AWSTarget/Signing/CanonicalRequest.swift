// The canonical request of SigV4, written by hand (see SigV4Signer.swift).

/// The canonical form of a request that SigV4 hashes and signs.
struct CanonicalRequest {
    var text: String
    var signedHeaders: String

    init(request: SignableRequest, payloadHash: String) {
        let headers = request.headers
            .map { (name: $0.key, value: Self.trimmed($0.value)) }
            .sorted { $0.name < $1.name }
        signedHeaders = headers.map(\.name).joined(separator: ";")
        let canonicalHeaders = headers.map { "\($0.name):\($0.value)\n" }.joined()
        text = [
            request.method,
            URIEncoding.path(request.path),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
    }

    /// Parameters encoded, then sorted by name and value.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query
            .map { (URIEncoding.component($0.name), URIEncoding.component($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Leading and trailing spaces removed, inner runs of spaces collapsed to one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}

/// RFC 3986 percent-encoding as SigV4 and the EC2 Query protocol want it: everything but
/// the unreserved characters is encoded, with upper-case hex digits.
enum URIEncoding {
    static func component(_ string: String) -> String {
        encode(string, keepingSlash: false)
    }

    /// Each path segment encoded once; slashes kept.
    static func path(_ string: String) -> String {
        encode(string.isEmpty ? "/" : string, keepingSlash: true)
    }

    private static func encode(_ string: String, keepingSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF")
        var out = ""
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: "/") where keepingSlash:
                out.append("/")
            default:
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
        }
        return out
    }
}
