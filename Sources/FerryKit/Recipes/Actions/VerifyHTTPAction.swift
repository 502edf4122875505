import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Checks that a URL answers with the expected status and, optionally, contains a text;
/// retries until a deadline, since a machine that just booted takes a while to answer.
public struct VerifyHTTPAction: RecipeAction {
    public init() {}

    public let name = "verify.http"
    public let summary = "Check that a URL answers (status, and text in the page)"
    public let inputs = [
        RecipeActionInput("url", .string, help: "the URL to fetch"),
        RecipeActionInput("status", .integer, default: .integer(200), help: "the expected HTTP status"),
        RecipeActionInput("contains", .string, default: .string(""), help: "text the page must contain"),
        RecipeActionInput("timeout_seconds", .integer, default: .integer(120), help: "how long to keep trying"),
    ]
    public let outputs = ["status", "seconds"]
    public let requiredCapabilities: [Capability] = []

    public func plan(_ inputs: RecipeInputs) -> [String] {
        ["fetch \(inputs.optionalString("url") ?? "?") until it answers \(inputs["status"]?.description ?? "200")"]
    }

    public func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let text = try inputs.string("url")
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
            throw RecipeInputError.invalid(name: "url", reason: "'\(text)' is not an http(s) URL")
        }
        let expected = try inputs.integer("status")
        let needle = inputs.optionalString("contains") ?? ""
        let deadline = Date().addingTimeInterval(TimeInterval(try inputs.integer("timeout_seconds")))
        let started = Date()
        var last = "no answer"
        repeat {
            var request = URLRequest(url: url, timeoutInterval: 5)
            request.cachePolicy = .reloadIgnoringLocalCacheData
            if let (data, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse {
                let body = String(decoding: data, as: UTF8.self)
                if http.statusCode == expected, needle.isEmpty || body.contains(needle) {
                    context.progress("\(url) answered \(http.statusCode) after \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
                    return ["status": .integer(http.statusCode), "seconds": .integer(Int(Date().timeIntervalSince(started).rounded()))]
                }
                last = "status \(http.statusCode)\(needle.isEmpty || body.contains(needle) ? "" : ", without '\(needle)'")"
            }
            try await Task.sleep(for: .milliseconds(500))
        } while Date() < deadline
        throw RecipeInputError.invalid(name: "url", reason: "\(url) did not answer \(expected)\(needle.isEmpty ? "" : " with '\(needle)'") within the timeout (last: \(last))")
    }
}
