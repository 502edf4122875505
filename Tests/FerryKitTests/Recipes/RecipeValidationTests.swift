import FerryCore
import FerryKit
import Testing

@Suite("Recipe loading and validation")
struct RecipeValidationTests {
    static let valid = """
        name: demo
        title: Demo
        parameters:
          cidr: {type: string, default: 10.0.0.0/16, help: the VPC's block}
          attempts: {type: integer, default: 3, help: how often}
        steps:
          - id: network
            title: Network
            explain: {en: Creates a network., ja: ネットワークを作成します。}
            action: network.create-vpc
            inputs:
              name: SourceVPC
              cidr: ${params.cidr}
              subnet_cidr: 10.0.1.0/24
          - id: group
            title: Group
            action: network.create-security-group
            inputs:
              vpc_id: ${steps.network.vpc_id}
              name: web
              ingress: ["tcp:80:0.0.0.0/0"]
            checks:
              - action: verify.http
                inputs: {url: "http://127.0.0.1:1/${steps.group.security_group_id}", timeout_seconds: 1}
        """

    func problems(_ yaml: String) throws -> [RecipeProblem] {
        do {
            let recipe = try RecipeLoader.parse(yaml: yaml, file: "test.yaml")
            try RecipeValidator(actions: .builtIn).validate(recipe)
            return []
        } catch RecipeError.invalid(_, let problems) {
            return problems
        }
    }

    @Test func aValidRecipeLoadsWithItsStepsAndExplanations() throws {
        let recipe = try RecipeLoader.parse(yaml: Self.valid, file: "test.yaml")
        try RecipeValidator(actions: .builtIn).validate(recipe)
        #expect(recipe.steps.map(\.id) == ["network", "group"])
        #expect(recipe.steps[0].explanation(in: "ja") == "ネットワークを作成します。")
        #expect(recipe.steps[1].explanation(in: "ja") == "")
        #expect(recipe.parameter("attempts")?.defaultValue == .integer(3))
    }

    @Test func anUnknownActionIsReportedWithLineAndField() throws {
        let found = try problems(Self.valid.replacingOccurrences(of: "action: network.create-security-group", with: "action: network.create-firewall"))
        #expect(found.count == 1)
        #expect(found.first?.field == "steps[1].action")
        #expect(found.first?.location.line == 17)
        #expect(found.first?.message.contains("unknown action 'network.create-firewall'") == true)
        #expect(found.first?.description.hasPrefix("test.yaml:17:") == true)
    }

    @Test func aReferenceToAMissingStepIsReportedWhereItIsWritten() throws {
        let found = try problems(Self.valid.replacingOccurrences(of: "${steps.network.vpc_id}", with: "${steps.netwrk.vpc_id}"))
        #expect(found.map(\.field) == ["steps[1].inputs.vpc_id"])
        #expect(found.first?.location.line == 19)
        #expect(found.first?.message.contains("no step 'netwrk'") == true)
    }

    @Test func aReferenceToAnOutputTheStepDoesNotHaveIsReported() throws {
        let found = try problems(Self.valid.replacingOccurrences(of: "${steps.network.vpc_id}", with: "${steps.network.vpc}"))
        #expect(found.first?.message.contains("has no output 'vpc'") == true)
    }

    @Test func aReferenceToALaterStepIsACycle() throws {
        let found = try problems(Self.valid.replacingOccurrences(of: "cidr: ${params.cidr}", with: "cidr: ${steps.group.security_group_id}"))
        #expect(found.map(\.field) == ["steps[0].inputs.cidr"])
        #expect(found.first?.message.contains("cycle") == true)
    }

    @Test func aWrongInputTypeIsReported() throws {
        let yaml = Self.valid.replacingOccurrences(of: "subnet_cidr: 10.0.1.0/24", with: "subnet_cidr: 10.0.1.0/24\n      public: 42")
        let found = try problems(yaml)
        #expect(found.map(\.field) == ["steps[0].inputs.public"])
        #expect(found.first?.message == "must be a boolean, not a integer")
    }

    @Test func aParameterOfTheWrongTypeForItsInputIsReported() throws {
        let found = try problems(Self.valid.replacingOccurrences(of: "name: web", with: "name: web\n      description: ${params.attempts}"))
        #expect(found.map(\.field) == ["steps[1].inputs.description"])
        #expect(found.first?.message.contains("must be a string, not a integer") == true)
    }

    @Test func missingAndUnknownInputsAndParametersAreAllReportedAtOnce() throws {
        let yaml = Self.valid
            .replacingOccurrences(of: "      subnet_cidr: 10.0.1.0/24\n", with: "      colour: blue\n")
            .replacingOccurrences(of: "${params.cidr}", with: "${params.cdr}")
        let found = try problems(yaml)
        #expect(Set(found.map(\.field)) == ["steps[0].inputs.subnet_cidr", "steps[0].inputs.colour", "steps[0].inputs.cidr"])
    }

    @Test func aDefaultOfTheWrongTypeIsReported() throws {
        let found = try problems(Self.valid.replacingOccurrences(of: "default: 3", with: "default: three"))
        #expect(found.map(\.field) == ["parameters.attempts.default"])
        #expect(found.first?.location.line == 5)
    }

    @Test func invalidYAMLIsReportedWithItsLine() throws {
        let found = try problems("name: x\ntitle: [unclosed\nsteps: []\n")
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix("not valid YAML") == true)
        #expect((found.first?.location.line ?? 0) >= 2)
    }

    @Test func parametersAreTypedFromTheCommandLine() throws {
        let recipe = try RecipeLoader.parse(yaml: Self.valid, file: "test.yaml")
        #expect(try RecipeValidator.resolveParameters(recipe, given: ["attempts": "5"])["attempts"] == .integer(5))
        #expect(throws: RecipeError.parameter(name: "attempts", reason: "'many' is not a integer")) {
            try RecipeValidator.resolveParameters(recipe, given: ["attempts": "many"])
        }
        #expect(throws: RecipeError.self) { try RecipeValidator.resolveParameters(recipe, given: ["colour": "red"]) }
    }

    @Test func aParameterWithoutDefaultIsRequired() throws {
        let recipe = try RecipeLoader.parse(yaml: Self.valid.replacingOccurrences(of: "default: 10.0.0.0/16, ", with: ""), file: "test.yaml")
        let error = #expect(throws: RecipeError.self) { try RecipeValidator.resolveParameters(recipe, given: [:]) }
        #expect(error?.description.contains("--param cidr=VALUE") == true)
    }
}
