import ArgumentParser
import Foundation

/// How a recipe runs: guided or unattended, and in which language it explains.
struct RecipeRunStyle: ParsableArguments {
    @Flag(help: "Run unattended: do not wait before each step.")
    var yes = false

    @Option(help: "Language of the explanations: en or ja.")
    var lang = "en"

    func validate() throws {
        guard ["en", "ja"].contains(lang) else { throw ValidationError("--lang must be en or ja") }
    }

    /// Guided (Enter before each step) only when asked and a person is at the terminal.
    var isGuided: Bool { !yes && isatty(STDIN_FILENO) == 1 }
}
