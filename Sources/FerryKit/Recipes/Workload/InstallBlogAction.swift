import FerryCore
import Foundation

/// Finishes the blog a launched server runs. A WordPress server (the debian-wordpress guest)
/// waits for its administrator: the installation form is submitted here, as a learner would
/// in a browser, with the run's secret as the administrator's password. The busybox guest's
/// static blog needs nothing. Either way the step says which kind of site it is, so that
/// later steps publish and check through the right door.
struct InstallBlogAction: RecipeAction {
    init() {}

    static let passwordSecret = "wordpress-admin-password"

    let name = "workload.install-blog"
    let summary = "Install the blog the server runs (WordPress: its installation form)"
    let inputs = [
        RecipeActionInput("url", .string, help: "the site's base URL"),
        RecipeActionInput("title", .string, default: .string("Ferry Blog"), help: "the site's title"),
        RecipeActionInput("admin_user", .string, default: .string("ferry-admin"), help: "WordPress's administrator (the password is a secret of the run, never shown)"),
        RecipeActionInput("admin_email", .string, default: .string("admin@example.com"), help: "the administrator's e-mail address"),
        RecipeActionInput("timeout_seconds", .integer, default: .integer(300), help: "how long to wait for the site to answer"),
    ]
    let outputs = ["kind", "admin_user", "posts_path"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["install the blog at \(inputs.optionalString("url") ?? "?") (WordPress: site title and administrator; a static blog: nothing)"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        guard let base = URL(string: try inputs.string("url")), base.scheme == "http" || base.scheme == "https" else {
            throw RecipeInputError.invalid(name: "url", reason: "not an http(s) URL")
        }
        let client = WordPressClient(base: base)
        let user = try inputs.string("admin_user")
        let deadline = Date().addingTimeInterval(TimeInterval(try inputs.integer("timeout_seconds")))
        // The server answers HTTP before its database and first-boot setup are done: ask again until then.
        var installation: WordPressClient.Installation?
        var lastError = ""
        while installation == nil {
            do { installation = try await client.installation() } catch {
                lastError = "\(error)"
                guard Date() < deadline else {
                    throw RecipeInputError.invalid(name: "url", reason: "no answer from \(base.absoluteString) within the timeout: \(lastError)")
                }
                try await Task.sleep(nanoseconds: 2_000_000_000)
            }
        }
        switch installation! {
        case .notWordPress:
            context.progress(context.say(en: "a static blog: nothing to install", ja: "静的なブログです。インストールは不要です"))
            return ["kind": .string("static"), "admin_user": .string(""), "posts_path": .string("")]
        case .pending:
            let password = try context.secret(Self.passwordSecret)
            try await client.install(title: try inputs.string("title"), user: user, password: password, email: try inputs.string("admin_email"))
            context.progress(context.say(en: "WordPress installed: administrator \(user) (its password is a secret of this run)",
                                         ja: "WordPress をインストールしました: 管理者 \(user)（パスワードはこの実行の秘密として保管）"))
        case .installed:
            context.progress(context.say(en: "WordPress is already installed", ja: "WordPress はインストール済みです"))
        }
        return ["kind": .string("wordpress"), "admin_user": .string(user), "posts_path": .string("?rest_route=/wp/v2/posts")]
    }
}
