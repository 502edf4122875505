import Crypto
import FerryCore
import Foundation

// The EBS direct APIs (REST with JSON), mapped by hand.
// https://docs.aws.amazon.com/ebs/latest/APIReference/

/// StartSnapshot, PutSnapshotBlock, CompleteSnapshot, ListSnapshotBlocks, GetSnapshotBlock.
struct EBSClient: Sendable {
    var http: AWSHTTPClient

    /// The block size of every EBS snapshot: 512 KiB.
    static let blockSize = BlockSize.bytes

    struct StartedSnapshot: Sendable {
        var id: String
        var blockSize: Int
        var volumeSizeGiB: Int
    }

    func startSnapshot(volumeSizeGiB: Int, parentSnapshotID: String?, description: String, tags: [String: String], clientToken: String) async throws -> StartedSnapshot {
        var body: [String: Any] = ["VolumeSize": volumeSizeGiB, "Description": description, "ClientToken": clientToken]
        if let parentSnapshotID { body["ParentSnapshotId"] = parentSnapshotID }
        if !tags.isEmpty {
            body["Tags"] = tags.sorted { $0.key < $1.key }.map { ["Key": $0.key, "Value": $0.value] }
        }
        let json = try await send(.startSnapshot, method: "POST", path: "/snapshots", body: JSONSerialization.data(withJSONObject: body))
        let answer = try object(json, .startSnapshot)
        guard let id = answer["SnapshotId"] as? String else { throw malformed(.startSnapshot, "no SnapshotId") }
        return StartedSnapshot(id: id, blockSize: Self.integer(answer["BlockSize"]) ?? Self.blockSize, volumeSizeGiB: Self.integer(answer["VolumeSize"]) ?? volumeSizeGiB)
    }

    /// Writes one block. `digest` is the SHA-256 of `data`: sent base64 as the checksum, and
    /// hex as the signed payload hash, so each block is hashed once.
    func putSnapshotBlock(snapshotID: String, index: Int, data: [UInt8], digest: SHA256.Digest) async throws {
        let request = AWSHTTPRequest(
            service: .ebs, operation: EBSAction.putSnapshotBlock.rawValue, method: "PUT",
            path: "/snapshots/\(snapshotID)/blocks/\(index)",
            headers: [
                "x-amz-data-length": String(data.count),
                "x-amz-checksum": Data(digest).base64EncodedString(),
                "x-amz-checksum-algorithm": "SHA256",
                "content-type": "application/octet-stream",
            ],
            body: data,
            payloadHash: SigV4Hash.hex(digest)
        )
        _ = try await http.send(request, decodeError: Self.decodeError)
    }

    /// Seals the snapshot. `aggregatedChecksum` is the base64 SHA-256 of the blocks' SHA-256
    /// digests in block order (the LINEAR aggregation).
    func completeSnapshot(snapshotID: String, changedBlocksCount: Int, aggregatedChecksum: String) async throws -> String {
        let request = AWSHTTPRequest(
            service: .ebs, operation: EBSAction.completeSnapshot.rawValue, method: "POST",
            path: "/snapshots/completion/\(snapshotID)",
            headers: [
                "x-amz-changedblockscount": String(changedBlocksCount),
                "x-amz-checksum": aggregatedChecksum,
                "x-amz-checksum-algorithm": "SHA256",
                "x-amz-checksum-aggregation-method": "LINEAR",
            ]
        )
        let response = try await http.send(request, decodeError: Self.decodeError)
        let answer = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        return answer?["Status"] as? String ?? "pending"
    }

    struct BlockListing: Sendable {
        var blocks: [(index: Int, token: String)]
        var blockSize: Int?
        var volumeSizeGiB: Int?
    }

    /// The blocks a snapshot holds, over all pages, sorted by index.
    func listSnapshotBlocks(snapshotID: String) async throws -> BlockListing {
        var listing = BlockListing(blocks: [])
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [(name: "maxResults", value: "10000")]
            if let token { query.append((name: "pageToken", value: token)) }
            let page = try Self.parseBlockPage(await send(.listSnapshotBlocks, method: "GET", path: "/snapshots/\(snapshotID)/blocks", query: query))
            listing.blocks += page.listing.blocks
            listing.blockSize = listing.blockSize ?? page.listing.blockSize
            listing.volumeSizeGiB = listing.volumeSizeGiB ?? page.listing.volumeSizeGiB
            token = page.nextToken
        } while token != nil
        listing.blocks.sort { $0.index < $1.index }
        return listing
    }

    /// Reads one block and checks it against the checksum the service sends with it.
    func getSnapshotBlock(snapshotID: String, index: Int, token: String) async throws -> [UInt8] {
        let request = AWSHTTPRequest(
            service: .ebs, operation: EBSAction.getSnapshotBlock.rawValue, method: "GET",
            path: "/snapshots/\(snapshotID)/blocks/\(index)", query: [(name: "blockToken", value: token)]
        )
        let response = try await http.send(request, decodeError: Self.decodeError)
        let data = [UInt8](response.body)
        if let checksum = response.headers["x-amz-checksum"], checksum != Data(SHA256.hash(data: data)).base64EncodedString() {
            throw malformed(.getSnapshotBlock, "block \(index) of \(snapshotID) does not match its checksum")
        }
        return data
    }

    /// One page of ListSnapshotBlocks.
    static func parseBlockPage(_ data: Data) throws -> (listing: BlockListing, nextToken: String?) {
        guard let answer = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw AWSResponseError(service: "ebs", operation: "ListSnapshotBlocks", reason: "not a JSON object")
        }
        let listing = BlockListing(blocks: try parseBlocks(answer), blockSize: integer(answer["BlockSize"]), volumeSizeGiB: integer(answer["VolumeSize"]))
        return (listing, answer["NextToken"] as? String)
    }

    /// Block entries as the API reference gives them (`BlockIndex` a number); also accepts an
    /// index sent as a string, as moto does.
    static func parseBlocks(_ answer: [String: Any]) throws -> [(index: Int, token: String)] {
        let entries = answer["Blocks"] as? [[String: Any]] ?? []
        return try entries.map { entry in
            guard let index = integer(entry["BlockIndex"]), let token = entry["BlockToken"] as? String else {
                throw AWSResponseError(service: "ebs", operation: "ListSnapshotBlocks", reason: "a block without BlockIndex or BlockToken")
            }
            return (index: index, token: token)
        }
    }

    static func integer(_ value: Any?) -> Int? {
        if let number = value as? NSNumber { return number.intValue }
        if let text = value as? String { return Int(text) }
        return nil
    }

    /// EBS errors: the code in `x-amzn-ErrorType` (or the body's `__type`), the message in the
    /// JSON body; moto sends HTML for some, kept short.
    static func decodeError(_ response: AWSHTTPResponse, _ request: AWSHTTPRequest) -> AWSError {
        let json = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        var code = response.headers["x-amzn-errortype"] ?? (json?["__type"] as? String) ?? json?["Code"] as? String ?? "HTTP\(response.status)"
        if let colon = code.firstIndex(of: ":") { code = String(code[..<colon]) }
        if let hash = code.lastIndex(of: "#") { code = String(code[code.index(after: hash)...]) }
        var message = (json?["Message"] as? String) ?? (json?["message"] as? String) ?? ""
        if json == nil, let tree = XMLTree.parse(response.body), let error = tree.first(named: "Error") ?? Optional(tree) {
            code = error.string("Code") ?? code
            message = error.string("Message") ?? message
        }
        if message.isEmpty && json == nil {
            message = String(response.text.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
                .split(whereSeparator: \.isWhitespace).joined(separator: " ").prefix(200))
        }
        if let reason = json?["Reason"] as? String { message += " (\(reason))" }
        return AWSError(service: "ebs", operation: request.operation, httpStatus: response.status, code: code, message: message, requestID: response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"])
    }

    private func send(_ action: EBSAction, method: String, path: String, query: [(name: String, value: String)] = [], body: Data = Data()) async throws -> Data {
        let request = AWSHTTPRequest(
            service: .ebs, operation: action.rawValue, method: method, path: path, query: query,
            headers: body.isEmpty ? [:] : ["content-type": "application/json"], body: [UInt8](body)
        )
        return try await http.send(request, decodeError: Self.decodeError).body
    }

    private func object(_ data: Data, _ action: EBSAction) throws -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw malformed(action, "not a JSON object: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        return object
    }

    private func malformed(_ action: EBSAction, _ reason: String) -> AWSResponseError {
        AWSResponseError(service: "ebs", operation: action.rawValue, reason: reason)
    }
}
