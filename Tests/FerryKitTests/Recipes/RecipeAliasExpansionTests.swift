import FerryCore
import FerryKit
import Testing

/// YAML anchors and aliases in a recipe: a few are fine, and a recipe whose aliases expand
/// exponentially ("billion laughs") is refused before the expansion costs minutes and
/// gigabytes.
@Suite("Recipe alias expansion")
struct RecipeAliasExpansionTests {
    /// Anchors that alias each other ten times per level: 10^(depth + 1) strings once expanded,
    /// as a parameter's default or as a step's input.
    static func laughs(depth: Int, inInputs: Bool) -> String {
        let indent = inInputs ? "        " : "      "
        var anchors = [indent + "- &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...depth {
            anchors.append(indent + "- &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        var lines = ["name: laughs", "title: Laughs", "parameters:", "  lol:", "    type: list"]
        if !inInputs { lines += ["    default:"] + anchors }
        lines += ["steps:", "  - id: one", "    title: One", "    action: network.create-vpc", "    inputs:",
                  "      name: x", "      cidr: 10.0.0.0/16", "      subnet_cidr: 10.0.1.0/24"]
        if inInputs { lines += ["      public:"] + anchors }
        return lines.joined(separator: "\n")
    }

    // A billion (10^9) strings and more: without the limit this does not end in any time a
    // test can wait (10^7 took 14 s and 700 MB).
    @Test(.timeLimit(.minutes(1)), arguments: [false, true])
    func aBillionLaughsRecipeIsRefusedNamingTheFileAndTheLimit(inInputs: Bool) throws {
        let error = #expect(throws: RecipeError.self) {
            try RecipeLoader.parse(yaml: Self.laughs(depth: 9, inInputs: inInputs), file: "recipes/laughs.yaml")
        }
        guard case .invalid(let file, let problems)? = error else {
            Issue.record("expected RecipeError.invalid, got \(String(describing: error))")
            return
        }
        #expect(file == "recipes/laughs.yaml")
        #expect(problems.count == 1)
        #expect(problems.first?.location.file == "recipes/laughs.yaml")
        #expect(problems.first?.field.hasPrefix(inInputs ? "steps[0].inputs.public" : "parameters.lol.default") == true)
        #expect(problems.first?.message.contains("more than 100000 YAML values") == true)
    }

    @Test func aFewAliasesStillLoadAsTheirExpandedValues() throws {
        let recipe = try RecipeLoader.parse(yaml: Self.laughs(depth: 2, inInputs: false), file: "laughs.yaml")
        let value = try #require(recipe.parameter("lol")?.defaultValue?.list)
        #expect(value.count == 3)
        #expect(value[2].list?.count == 10)
        #expect(value[2].list?.first?.list?.first?.list?.count == 10)
        #expect(value[2].list?.first?.list?.first?.list?.first == .string("lol"))
    }
}
