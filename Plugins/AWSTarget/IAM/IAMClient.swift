import FerryCore
import Foundation

/// IAM over the Query protocol (API version 2010-05-08); a global service signed for us-east-1.
struct IAMClient: Sendable {
    var query: QueryClient

    init(http: AWSHTTPClient) {
        query = QueryClient(http: http, service: .iam, version: "2010-05-08")
    }

    func call(_ action: IAMAction, _ parameters: QueryParameters = QueryParameters()) async throws -> XMLTree {
        try await query.call(action.rawValue, parameters)
    }

    /// Every `<member>` of `list` in the result, following `Marker` while `IsTruncated`.
    func list(_ action: IAMAction, _ parameters: QueryParameters, list: String) async throws -> [XMLTree] {
        var members: [XMLTree] = []
        var marker: String?
        repeat {
            var page = parameters
            page.set("Marker", marker)
            let result = try await call(action, page).child("\(action.rawValue)Result")
            members += result?.members(list) ?? []
            marker = result?.string("IsTruncated") == "true" ? result?.string("Marker") : nil
        } while marker != nil
        return members
    }

    func createUser(name: String, tags: [String: String]) async throws -> IdentityUser {
        var p = QueryParameters([("UserName", name)])
        for (n, tag) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
            p.set("Tags.member.\(n + 1).Key", tag.key)
            p.set("Tags.member.\(n + 1).Value", tag.value)
        }
        let user = try await call(.createUser, p).at("CreateUserResult/User")
        guard let user, let id = user.string("UserId"), let arn = user.string("Arn") else {
            throw AWSResponseError(service: "iam", operation: "CreateUser", reason: "no User in the answer")
        }
        return IdentityUser(name: user.string("UserName") ?? name, id: id, arn: arn)
    }

    func putUserPolicy(userName: String, policyName: String, document: PolicyDocument) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(document), as: UTF8.self)
        _ = try await call(.putUserPolicy, QueryParameters([("UserName", userName), ("PolicyName", policyName), ("PolicyDocument", json)]))
    }

    func createAccessKey(userName: String) async throws -> AccessKeyGrant {
        let key = try await call(.createAccessKey, QueryParameters([("UserName", userName)])).at("CreateAccessKeyResult/AccessKey")
        guard let key, let id = key.string("AccessKeyId"), let secret = key.string("SecretAccessKey") else {
            throw AWSResponseError(service: "iam", operation: "CreateAccessKey", reason: "no AccessKey in the answer")
        }
        return AccessKeyGrant(accessKeyID: id, userName: userName, secret: Secret(secret))
    }

    /// Removes the user's access keys and inline policies, then the user.
    func deleteUser(name: String) async throws {
        let user = QueryParameters([("UserName", name)])
        for key in try await list(.listAccessKeys, user, list: "AccessKeyMetadata") {
            guard let id = key.string("AccessKeyId") else { continue }
            _ = try await call(.deleteAccessKey, QueryParameters([("UserName", name), ("AccessKeyId", id)]))
        }
        for policy in try await list(.listUserPolicies, user, list: "PolicyNames") {
            let policyName = policy.text.trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try await call(.deleteUserPolicy, QueryParameters([("UserName", name), ("PolicyName", policyName)]))
        }
        _ = try await call(.deleteUser, user)
    }
}
