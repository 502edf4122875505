import FerryCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Publishes a post on the blog, so that continuous replication has something to carry to the
/// cutover instance: through WordPress's XML-RPC API as the run's administrator, or, on the
/// busybox guest's static blog, by POSTing title and body to its publish endpoint.
struct PublishPostAction: RecipeAction {
    init() {}

    let name = "workload.publish-post"
    let summary = "Publish a post on the blog"
    let inputs = [
        RecipeActionInput("url", .string, help: "the site's base URL"),
        RecipeActionInput("title", .string, help: "the post's title"),
        RecipeActionInput("body", .string, default: .string(""), help: "the post's text"),
        RecipeActionInput("kind", .string, default: .string("static"), help: "wordpress or static, as workload.install-blog found"),
        RecipeActionInput("admin_user", .string, default: .string(""), help: "WordPress: the administrator workload.install-blog made"),
    ]
    let outputs = ["post_url", "published_at"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] { ["publish '\(inputs.optionalString("title") ?? "?")' on \(inputs.optionalString("url") ?? "?")"] }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        guard let base = URL(string: try inputs.string("url")) else {
            throw RecipeInputError.invalid(name: "url", reason: "not a URL")
        }
        let postURL: String
        switch try inputs.string("kind") {
        case "wordpress":
            let user = try inputs.string("admin_user")
            guard !user.isEmpty else { throw RecipeInputError.invalid(name: "admin_user", reason: "WordPress needs its administrator's name") }
            let client = WordPressClient(base: base)
            let id: String
            do {
                id = try await client.newPost(user: user, password: try context.secret(InstallBlogAction.passwordSecret), title: try inputs.string("title"), body: try inputs.string("body"))
            } catch let failure as WordPressClient.Failure {
                throw RecipeInputError.invalid(name: "url", reason: "publishing failed: \(failure)")
            }
            postURL = URL(string: "?p=\(id)", relativeTo: base)?.absoluteString ?? base.absoluteString
        case "static":
            postURL = try await publishStatic(base: base, inputs: inputs)
        case let other:
            throw RecipeInputError.invalid(name: "kind", reason: "'\(other)' is not wordpress or static")
        }
        // The site answers after the post is on the guest's disk (WordPress: MariaDB committed
        // it; the static blog: synced): from now on, a pass that starts reading the disk sees it.
        let publishedAt = Date()
        context.progress(context.say(en: "published \(postURL)", ja: "投稿しました: \(postURL)"))
        return ["post_url": .string(postURL), "published_at": .string(RecipeTime.format(publishedAt))]
    }

    private func publishStatic(base: URL, inputs: RecipeInputs) async throws -> String {
        guard let endpoint = URL(string: "cgi-bin/publish", relativeTo: base) else {
            throw RecipeInputError.invalid(name: "url", reason: "not a URL")
        }
        var request = URLRequest(url: endpoint, timeoutInterval: 30)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let form = "title=\(WordPressClient.formEncoded(try inputs.string("title")))&body=\(WordPressClient.formEncoded(try inputs.string("body")))"
        request.httpBody = Data(form.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let body = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let http = response as? HTTPURLResponse, http.statusCode == 201 else {
            throw RecipeInputError.invalid(name: "url", reason: "publishing failed: \((response as? HTTPURLResponse)?.statusCode ?? 0) \(body)")
        }
        return URL(string: body, relativeTo: base)?.absoluteString ?? body
    }
}
