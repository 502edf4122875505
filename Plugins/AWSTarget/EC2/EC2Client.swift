/// EC2 over the Query protocol (API version 2016-11-15), answers in XML.
struct EC2Client: Sendable {
    var query: QueryClient

    init(http: AWSHTTPClient) {
        query = QueryClient(http: http, service: .ec2, version: "2016-11-15")
    }

    func call(_ action: EC2Action, _ parameters: QueryParameters = QueryParameters()) async throws -> XMLTree {
        try await query.call(action.rawValue, parameters)
    }

    /// Every `<item>` of the list `listName` over all pages.
    func describe(_ action: EC2Action, _ parameters: QueryParameters = QueryParameters(), list listName: String, pageSize: Int? = nil) async throws -> [XMLTree] {
        try await query.callPaginated(action.rawValue, parameters, pageSize: pageSize).flatMap { $0.items(listName) }
    }

    /// A required field of an answer.
    func required(_ tree: XMLTree?, _ path: String, _ action: EC2Action) throws -> String {
        guard let value = tree?.string(path) else {
            throw AWSResponseError(service: "ec2", operation: action.rawValue, reason: "no \(path) in the answer")
        }
        return value
    }
}

extension XMLTree {
    /// EC2's `<tagSet><item><key/><value/></item></tagSet>`.
    var ec2Tags: [String: String] {
        var tags: [String: String] = [:]
        for item in items("tagSet") {
            if let key = item.string("key") { tags[key] = item.string("value") ?? "" }
        }
        return tags
    }
}
