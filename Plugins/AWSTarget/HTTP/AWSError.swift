import FerryCore
/// An error answer from a service, decoded from EC2's XML, IAM's and STS's XML or the EBS
/// JSON: the code, the message and the request id to quote to support.
public struct AWSError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        case authenticationFailed = "authentication failed"
        case accessDenied = "access denied"
        case notFound = "not found"
        case dependencyViolation = "still in use"
        case throttled = "throttled"
        case invalidRequest = "invalid request"
        case serverError = "server error"
    }

    public var service: String
    public var operation: String
    public var httpStatus: Int
    public var code: String
    public var message: String
    public var requestID: String?

    public init(service: String, operation: String, httpStatus: Int, code: String, message: String, requestID: String?) {
        self.service = service
        self.operation = operation
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    public var kind: Kind {
        switch code {
        case "AuthFailure", "SignatureDoesNotMatch", "InvalidClientTokenId", "InvalidAccessKeyId", "UnrecognizedClientException",
             "IncompleteSignature", "MissingAuthenticationToken", "ExpiredToken", "ExpiredTokenException", "InvalidSignatureException":
            return .authenticationFailed
        case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess":
            return .accessDenied
        case "DependencyViolation", "DeleteConflict", "InvalidGroup.InUse", "ConflictException":
            return .dependencyViolation
        case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled",
             "RequestThrottledException", "SlowDown", "ProvisionedThroughputExceededException", "EC2ThrottledException":
            return .throttled
        case "NoSuchEntity", "ResourceNotFoundException": return .notFound
        default:
            if code.hasSuffix(".NotFound") || code.hasSuffix("NotFound") { return .notFound }
            if httpStatus == 429 { return .throttled }
            if httpStatus >= 500 { return .serverError }
            if httpStatus == 401 { return .authenticationFailed }
            if httpStatus == 403 { return .accessDenied }
            return .invalidRequest
        }
    }

    /// Whether trying again later may succeed.
    public var isRetryable: Bool {
        kind == .throttled || kind == .serverError
    }

    public var description: String {
        var text = "\(service) \(operation): \(kind.rawValue): \(code)"
        if !message.isEmpty { text += ": \(message)" }
        text += " (HTTP \(httpStatus)"
        if let requestID { text += ", request id \(requestID)" }
        text += ")"
        switch kind {
        case .authenticationFailed:
            text += "; check the access key and secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or the profile) and the clock"
        case .accessDenied:
            text += "; the credentials are valid but the policy does not allow this action"
        default: break
        }
        return text
    }
}

/// A request that never got an answer: the endpoint was unreachable or too slow.
public struct AWSTransportError: Error, Hashable, Sendable, CustomStringConvertible {
    public var service: String
    public var operation: String
    public var endpoint: String
    public var reason: String
    public var attempts: Int

    public var description: String {
        "\(service) \(operation): cannot reach \(endpoint) after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(reason); check the endpoint (AWS_ENDPOINT_URL…) and the network"
    }
}

/// An answer that is not what the API reference says it is.
public struct AWSResponseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var service: String
    public var operation: String
    public var reason: String

    public var description: String { "\(service) \(operation): unexpected response: \(reason)" }
}

extension AWSError: ResourceNotFoundError {
    public var isResourceNotFound: Bool { kind == .notFound }
}
