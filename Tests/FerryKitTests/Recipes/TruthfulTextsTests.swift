import Foundation
import Testing

/// What the README and the shipped recipes tell learners must be true of the code as it is.
/// Each phrase below was a claim the code did not keep; the issue that makes one true
/// (write tracking for consistent points in time, say) takes it off this list with its proof.
@Suite("Texts that say only what is true")
struct TruthfulTextsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Phrase → why it is not true yet.
    static let untrue: [(String, String)] = [
        ("consistent snapshot", "a pass reads the disk while it changes: snapshots are not crash-consistent until write tracking"),
        ("consistent point", "the same: no point in time is crash-consistent yet"),
        ("consistent snapshots are taken", "the same"),
        ("整合性のあるスナップショット", "the same, in Japanese"),
        ("整合性のある時点", "the same, in Japanese"),
        ("works through its own user", "the workshop creates the user but keeps using the credentials it started with"),
        ("専用ユーザーで動作", "the same, in Japanese"),
        ("removes the imported volumes", "finalize removes staging snapshots, not what launches imported"),
    ]

    @Test func theReadmeAndTheRecipesMakeNoClaimTheCodeDoesNotKeep() throws {
        let recipes = try FileManager.default.contentsOfDirectory(atPath: Self.repository.appendingPathComponent("recipes").path)
            .filter { $0.hasSuffix(".yaml") }.map { "recipes/\($0)" }
        #expect(recipes.count >= 3)
        for file in ["README.md"] + recipes {
            let text = try String(contentsOf: Self.repository.appendingPathComponent(file), encoding: .utf8)
            for (phrase, why) in Self.untrue {
                #expect(!text.localizedCaseInsensitiveContains(phrase), "\(file) says “\(phrase)”, which is not true: \(why)")
            }
        }
    }
}
