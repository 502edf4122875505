import FerryCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Publishes a post on the WordPress-like site (POST title and body to its publish endpoint),
/// so that continuous replication has something to carry to the cutover instance.
struct PublishPostAction: RecipeAction {
    init() {}

    let name = "workload.publish-post"
    let summary = "Publish a post on the blog"
    let inputs = [
        RecipeActionInput("url", .string, help: "the site's base URL"),
        RecipeActionInput("title", .string, help: "the post's title"),
        RecipeActionInput("body", .string, default: .string(""), help: "the post's text"),
    ]
    let outputs = ["post_url", "published_at"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] { ["publish '\(inputs.optionalString("title") ?? "?")' on \(inputs.optionalString("url") ?? "?")"] }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        guard let base = URL(string: try inputs.string("url")), let endpoint = URL(string: "cgi-bin/publish", relativeTo: base) else {
            throw RecipeInputError.invalid(name: "url", reason: "not a URL")
        }
        var request = URLRequest(url: endpoint, timeoutInterval: 30)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        func encode(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        request.httpBody = Data("title=\(encode(try inputs.string("title")))&body=\(encode(try inputs.string("body")))".utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        // The page answers after the post is synced to the guest's disk: from now on, a pass
        // that starts reading the disk sees it.
        let publishedAt = Date()
        let body = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let http = response as? HTTPURLResponse, http.statusCode == 201 else {
            throw RecipeInputError.invalid(name: "url", reason: "publishing failed: \((response as? HTTPURLResponse)?.statusCode ?? 0) \(body)")
        }
        let postURL = URL(string: body, relativeTo: base)?.absoluteString ?? body
        context.progress(context.say(en: "published \(postURL)", ja: "投稿しました: \(postURL)"))
        return ["post_url": .string(postURL), "published_at": .string(RecipeTime.format(publishedAt))]
    }
}
