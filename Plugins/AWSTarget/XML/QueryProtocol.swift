import Foundation

// The Query protocol of EC2, IAM and STS, written by hand: parameters form-encoded in a
// POST body, answers in XML, errors in XML.

/// Parameters of a Query API call, flattened the way the protocol wants them
/// ("Filter.1.Name", "TagSpecification.1.Tag.2.Value").
struct QueryParameters: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    init(_ pairs: [(String, String)] = []) {
        self.pairs = pairs.map { (name: $0.0, value: $0.1) }
    }

    mutating func set(_ name: String, _ value: String?) {
        guard let value else { return }
        pairs.append((name: name, value: value))
    }

    mutating func set(_ name: String, _ value: Int?) {
        set(name, value.map(String.init))
    }

    /// A list: `prefix.1`, `prefix.2`, …
    mutating func list(_ prefix: String, _ values: [String]) {
        for (index, value) in values.enumerated() { set("\(prefix).\(index + 1)", value) }
    }

    /// EC2 filters: `Filter.N.Name` and `Filter.N.Value.M`.
    mutating func filters(_ filters: [(name: String, values: [String])]) {
        for (index, filter) in filters.enumerated() {
            set("Filter.\(index + 1).Name", filter.name)
            list("Filter.\(index + 1).Value", filter.values)
        }
    }

    /// EC2 tags at creation: `TagSpecification.1.ResourceType` and its `Tag.N.Key/Value`.
    mutating func tagSpecification(_ resourceType: String, _ tags: [String: String], index: Int = 1) {
        guard !tags.isEmpty else { return }
        set("TagSpecification.\(index).ResourceType", resourceType)
        for (n, tag) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
            set("TagSpecification.\(index).Tag.\(n + 1).Key", tag.key)
            set("TagSpecification.\(index).Tag.\(n + 1).Value", tag.value)
        }
    }

    /// The form-encoded body.
    func body(action: String, version: String) -> [UInt8] {
        let all = [(name: "Action", value: action), (name: "Version", value: version)] + pairs
        return Array(all.map { "\(URIEncoding.component($0.name))=\(URIEncoding.component($0.value))" }.joined(separator: "&").utf8)
    }
}

enum QueryErrorDecoder {
    /// Decodes `<Response><Errors><Error>` (EC2) and `<ErrorResponse><Error>` (IAM, STS).
    static func decode(_ response: AWSHTTPResponse, _ request: AWSHTTPRequest) -> AWSError {
        let tree = XMLTree.parse(response.body)
        let error = tree?.first(named: "Error")
        let requestID = tree?.string("RequestID") ?? tree?.string("RequestId") ?? response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"]
        return AWSError(
            service: request.service.rawValue,
            operation: request.operation,
            httpStatus: response.status,
            code: error?.string("Code") ?? "HTTP\(response.status)",
            message: error?.string("Message") ?? (tree == nil ? String(response.text.prefix(200)) : ""),
            requestID: requestID
        )
    }
}

/// A client for one Query-protocol service.
struct QueryClient: Sendable {
    var http: AWSHTTPClient
    var service: AWSService
    var version: String

    func call(_ action: String, _ parameters: QueryParameters = QueryParameters()) async throws -> XMLTree {
        let request = AWSHTTPRequest(
            service: service, operation: action, method: "POST",
            headers: ["content-type": "application/x-www-form-urlencoded; charset=utf-8"],
            body: parameters.body(action: action, version: version)
        )
        let response = try await http.send(request, decodeError: QueryErrorDecoder.decode)
        guard let tree = XMLTree.parse(response.body) else {
            throw AWSResponseError(service: service.rawValue, operation: action, reason: "not XML: \(response.text.prefix(200))")
        }
        return tree
    }

    /// Calls `action` for every page, following `nextToken` (EC2's pagination).
    func callPaginated(_ action: String, _ parameters: QueryParameters = QueryParameters(), pageSize: Int? = nil) async throws -> [XMLTree] {
        var pages: [XMLTree] = []
        var token: String?
        repeat {
            var page = parameters
            page.set("MaxResults", pageSize)
            page.set("NextToken", token)
            let tree = try await call(action, page)
            pages.append(tree)
            token = tree.string("nextToken")
        } while token != nil
        return pages
    }
}
