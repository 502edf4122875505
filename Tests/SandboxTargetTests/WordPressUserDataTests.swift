import Foundation
import SandboxTarget
import Testing

/// The WordPress user data lives twice: in Swift for `ferry sandbox launch --wordpress`,
/// which works from any folder, and in recipes/ beside the workshop recipe, which names it
/// as a file its readers can open. The two must not drift apart.
struct WordPressUserDataTests {
    @Test func theRecipesCopyIsTheSandboxsOwn() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let recipeCopy = try String(contentsOf: root.appendingPathComponent("recipes/wordpress-user-data.sh"), encoding: .utf8)
        #expect(recipeCopy == SandboxUserData.wordPress + "\n")
    }
}
