import FerryCore

/// An access key with its secret (and a session token for temporary credentials). The
/// secret parts are `Secret`s: they never print, so they cannot reach a log or an error.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: Secret
    public var sessionToken: Secret?
    /// Where the credentials were found ("environment", "profile dev in ~/.aws/credentials").
    public var source: String

    public init(accessKeyID: String, secretAccessKey: Secret, sessionToken: Secret? = nil, source: String = "given") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    public var description: String {
        "access key \(accessKeyID) (from \(source))"
    }
}
