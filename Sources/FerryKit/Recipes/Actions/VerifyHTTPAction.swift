import FerryCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Checks that a URL answers with the expected status and, optionally, contains a text;
/// retries until a deadline, since a machine that just booted takes a while to answer.
///
/// An empty URL is what a launch gives when the target offers no endpoint reachable from
/// here (an AWS-style cloud whose instance has no public address, an emulator whose
/// instances never boot): the check is then skipped, and says so, rather than failing on an
/// address nothing answers on or pretending to pass. Any URL given is checked for real.
struct VerifyHTTPAction: RecipeAction {
    init() {}

    let name = "verify.http"
    let summary = "Check that a URL answers (status, and text in the page)"
    let inputs = [
        RecipeActionInput("url", .string, help: "the URL to fetch; empty when the target offers no endpoint reachable from here (the check is then skipped)"),
        RecipeActionInput("status", .integer, default: .integer(200), help: "the expected HTTP status"),
        RecipeActionInput("contains", .string, default: .string(""), help: "text the page must contain"),
        RecipeActionInput("timeout_seconds", .integer, default: .integer(120), help: "how long to keep trying"),
        RecipeActionInput("instance_id", .string, default: .string(""), help: "the instance just launched behind the URL: while waiting, its boot's phases are shown, and its address when it answers"),
    ]
    let outputs = ["status", "seconds", "skipped", "reason"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] {
        let url = inputs.optionalString("url") ?? "?"
        return [url.isEmpty ? "skip the HTTP check: no endpoint reachable from here" : "fetch \(url) until it answers \(inputs["status"]?.description ?? "200")"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let text = try inputs.string("url").trimmingCharacters(in: .whitespaces)
        if text.isEmpty {
            let reason = "the target offers no endpoint reachable from here to verify (see the launch's no_endpoint_reason); nothing was fetched"
            context.progress(context.say(en: "check skipped: \(reason)",
                                         ja: "確認を省略しました: ここから到達できるエンドポイントがターゲットにありません（起動の no_endpoint_reason を参照）"))
            return ["status": .integer(0), "seconds": .integer(0), "skipped": .boolean(true), "reason": .string(reason)]
        }
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
            throw RecipeInputError.invalid(name: "url", reason: "'\(text)' is not an http(s) URL")
        }
        let expected = try inputs.integer("status")
        let needle = inputs.optionalString("contains") ?? ""
        let deadline = Date().addingTimeInterval(TimeInterval(try inputs.integer("timeout_seconds")))
        let started = Date()
        let instanceID = inputs.optionalString("instance_id") ?? ""
        // The boot's phases are drawn beside the fetches, every second, whatever a fetch waits.
        let watch: Task<Void, Never>? = instanceID.isEmpty ? nil : Task {
            let observer = (try? context.environment.compute()) as? any BootObserving
            await InstanceBootWatch(context: context, instanceID: instanceID, observer: observer, url: text, started: started).run()
        }
        func stopWatching() async {
            watch?.cancel()
            await watch?.value
        }
        let observer = instanceID.isEmpty ? nil : (try? context.environment.compute()) as? any BootObserving
        var last = "no answer"
        repeat {
            do {
                try await InstanceBootWatch.failIfCannotBoot(observer, instanceID: instanceID)
            } catch {
                await stopWatching()
                throw error
            }
            var request = URLRequest(url: url, timeoutInterval: 5)
            request.cachePolicy = .reloadIgnoringLocalCacheData
            if let (data, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse {
                let body = String(decoding: data, as: UTF8.self)
                if http.statusCode == expected, needle.isEmpty || body.contains(needle) {
                    await stopWatching()
                    let after = RecipeWording.seconds(Date().timeIntervalSince(started), context.language, decimals: 1)
                    context.progress(context.say(en: "\(url) answered \(http.statusCode) after \(after)",
                                                 ja: "\(url) が \(after) で HTTP \(http.statusCode) を返しました"))
                    if !instanceID.isEmpty {
                        context.progress(context.say(en: "open \(url) now", ja: "今すぐ \(url) を開けます"))
                    }
                    return ["status": .integer(http.statusCode), "seconds": .integer(Int(Date().timeIntervalSince(started).rounded())),
                            "skipped": .boolean(false), "reason": .string("")]
                }
                last = "status \(http.statusCode)\(needle.isEmpty || body.contains(needle) ? "" : ", without '\(needle)'")"
            }
            try await Task.sleep(for: .milliseconds(500))
        } while Date() < deadline
        await stopWatching()
        throw RecipeInputError.invalid(name: "url", reason: "\(url) did not answer \(expected)\(needle.isEmpty ? "" : " with '\(needle)'") within the timeout (last: \(last))")
    }
}
