import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A request to one service before signing.
struct AWSHTTPRequest: Sendable {
    var service: AWSService
    /// The API action, for errors and logs ("DescribeVpcs", "PutSnapshotBlock").
    var operation: String
    var method: String
    var path: String = "/"
    var query: [(name: String, value: String)] = []
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    /// The hex SHA-256 of `body`, when the caller has it already.
    var payloadHash: String?
}

struct AWSHTTPResponse: Sendable {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Sends signed requests with timeouts and retries; decodes error answers with the
/// service's protocol (`decodeError`) so that throttling is recognised whatever the format.
final class AWSHTTPClient: Sendable {
    let settings: AWSSettings
    let retry: RetryPolicy
    private let session: URLSession

    init(settings: AWSSettings, retry: RetryPolicy = .standard, timeout: TimeInterval = 60, maxConnections: Int = 16) {
        self.settings = settings
        self.retry = retry
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 5
        configuration.httpMaximumConnectionsPerHost = maxConnections
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Sends `request`, retrying what may succeed later; answers 2xx or throws.
    func send(_ request: AWSHTTPRequest, decodeError: (AWSHTTPResponse, AWSHTTPRequest) -> AWSError) async throws -> AWSHTTPResponse {
        let endpoint = settings.endpoint(for: request.service)
        var attempt = 0
        while true {
            attempt += 1
            let urlRequest = signed(request, endpoint: endpoint)
            let response: AWSHTTPResponse
            do {
                let (data, urlResponse) = try await perform(urlRequest)
                guard let http = urlResponse as? HTTPURLResponse else {
                    throw AWSResponseError(service: request.service.rawValue, operation: request.operation, reason: "not an HTTP response")
                }
                var headers: [String: String] = [:]
                for (key, value) in http.allHeaderFields {
                    if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
                }
                response = AWSHTTPResponse(status: http.statusCode, headers: headers, body: data)
            } catch let error as URLError {
                if attempt >= retry.maxAttempts || !Self.isTransient(error) {
                    throw AWSTransportError(service: request.service.rawValue, operation: request.operation, endpoint: endpoint.absoluteString, reason: error.localizedDescription, attempts: attempt)
                }
                try await Task.sleep(nanoseconds: UInt64(retry.delay(beforeRetry: attempt) * 1e9))
                continue
            }
            if (200..<300).contains(response.status) { return response }
            let error = decodeError(response, request)
            if error.isRetryable && attempt < retry.maxAttempts {
                try await Task.sleep(nanoseconds: UInt64(retry.delay(beforeRetry: attempt) * 1e9))
                continue
            }
            throw error
        }
    }

    /// One exchange. Deliberately not cancelled with the calling task: an in-flight request
    /// is left to finish (or time out), because cancelling FoundationNetworking's async
    /// requests can leave the caller waiting forever.
    private func perform(_ request: URLRequest) async throws -> (Data, URLResponse) {
        try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else if let response {
                    continuation.resume(returning: (data ?? Data(), response))
                } else {
                    continuation.resume(throwing: URLError(.badServerResponse))
                }
            }.resume()
        }
    }

    private func signed(_ request: AWSHTTPRequest, endpoint: URL) -> URLRequest {
        let basePath = endpoint.path == "/" ? "" : endpoint.path
        var signable = SignableRequest(method: request.method, path: basePath + request.path, query: request.query, headers: request.headers, body: request.body)
        var host = endpoint.host ?? ""
        if let port = endpoint.port { host += ":\(port)" }
        signable.headers["host"] = host
        let payloadHash = request.payloadHash ?? SigV4Hash.sha256(request.body)
        signable.headers["x-amz-content-sha256"] = payloadHash
        let signer = SigV4Signer(credentials: settings.credentials, region: request.service.signingRegion(settings.region), service: request.service.signingName)
        _ = signer.sign(&signable, payloadHash: payloadHash)

        var components = URLComponents()
        components.scheme = endpoint.scheme
        components.host = endpoint.host
        components.port = endpoint.port
        components.percentEncodedPath = URIEncoding.path(signable.path)
        if !request.query.isEmpty {
            components.percentEncodedQuery = CanonicalRequest.canonicalQuery(request.query)
        }
        var urlRequest = URLRequest(url: components.url!)
        urlRequest.httpMethod = request.method
        for (name, value) in signable.headers where name != "host" {
            urlRequest.setValue(value, forHTTPHeaderField: name)
        }
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            urlRequest.httpBody = Data(request.body)
            // libcurl otherwise asks for "100 Continue" before a large body and, from a server
            // that never answers it, waits a second per request.
            urlRequest.setValue("", forHTTPHeaderField: "Expect")
        }
        return urlRequest
    }

    private static func isTransient(_ error: URLError) -> Bool {
        switch error.code {
        case .timedOut, .networkConnectionLost, .cannotConnectToHost, .notConnectedToInternet, .dnsLookupFailed, .cannotFindHost, .badServerResponse:
            return true
        default:
            return false
        }
    }
}
