import Crypto
import Foundation

// AWS Signature Version 4, written by hand: no AWS SDK is available to Ferry.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html

/// Signs requests for one service in one region with SigV4 (AWS4-HMAC-SHA256).
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The parts of a signature, exposed so that each step can be checked against the
    /// published test suite.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signedHeaders: String
        public var signature: String
        public var authorization: String
    }

    /// Signs `request`: adds `x-amz-date`, `x-amz-security-token` (when the credentials have a
    /// session token) and `authorization`. `payloadHash` is the hex SHA-256 of the body; it
    /// is computed when not given.
    public func sign(_ request: inout SignableRequest, date: Date = Date(), payloadHash: String? = nil) -> Signature {
        let stamp = SigV4Date(date)
        request.headers["x-amz-date"] = stamp.timestamp
        if let token = credentials.sessionToken {
            request.headers["x-amz-security-token"] = token.reveal()
        }
        let signature = self.signature(for: request, date: stamp, payloadHash: payloadHash ?? SigV4Hash.sha256(request.body))
        request.headers["authorization"] = signature.authorization
        return signature
    }

    /// Computes the signature of `request` as it stands (it must already carry `x-amz-date`).
    public func signature(for request: SignableRequest, date: SigV4Date, payloadHash: String) -> Signature {
        let canonical = CanonicalRequest(request: request, payloadHash: payloadHash)
        let scope = "\(date.day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256",
            date.timestamp,
            scope,
            SigV4Hash.sha256(Array(canonical.text.utf8)),
        ].joined(separator: "\n")
        let key = signingKey(day: date.day)
        let signature = SigV4Hash.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        return Signature(canonicalRequest: canonical.text, stringToSign: stringToSign, signedHeaders: canonical.signedHeaders, signature: signature, authorization: authorization)
    }

    private func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey.reveal()).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }
}

/// The request as SigV4 sees it: method, path, query parameters, headers and body.
public struct SignableRequest: Sendable {
    public var method: String
    /// The URI path, not yet percent-encoded ("/" for the root).
    public var path: String
    public var query: [(name: String, value: String)]
    /// Header names are kept lower-cased.
    public var headers: [String: String] {
        get { storedHeaders }
        set { storedHeaders = Dictionary(newValue.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 }) }
    }
    public var body: [UInt8]

    private var storedHeaders: [String: String] = [:]

    public init(method: String, path: String = "/", query: [(name: String, value: String)] = [], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers
    }
}

/// The timestamp (`20150830T123600Z`) and day (`20150830`) of a signature, in UTC.
public struct SigV4Date: Sendable {
    public var timestamp: String
    public var day: String

    public init(_ date: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        timestamp = day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!)
    }
}

enum SigV4Hash {
    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The hex SHA-256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }
}
