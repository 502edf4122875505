import FerryCore
import Foundation
import Yams

/// Reads a recipe from YAML, keeping the line and column of every field so that each
/// problem names where it is. Structure only; `RecipeValidator` checks the meaning.
public enum RecipeLoader {
    public static func load(file: String) throws -> Recipe {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw RecipeError.unreadable(file: file, reason: "\(error.localizedDescription)")
        }
        return try parse(yaml: text, file: file)
    }

    public static func parse(yaml: String, file: String) throws -> Recipe {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw RecipeError.invalid(file: file, problems: [RecipeProblem(location: RecipeLocation(file: file, line: 1, column: 1), field: "recipe", message: "the file is empty")])
            }
            root = node
        } catch let error as YamlError {
            throw RecipeError.invalid(file: file, problems: [RecipeProblem(location: Self.location(of: error, file: file), field: "recipe", message: "not valid YAML: \(Self.summary(of: error))")])
        }
        var reader = NodeReader(file: file)
        let recipe = reader.recipe(root)
        if !reader.problems.isEmpty { throw RecipeError.invalid(file: file, problems: reader.problems) }
        return recipe
    }

    private static func location(of error: YamlError, file: String) -> RecipeLocation {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _):
            return RecipeLocation(file: file, line: mark.line, column: mark.column)
        default:
            return RecipeLocation(file: file, line: 1, column: 1)
        }
    }

    private static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _): return problem
        default: return "\(error)"
        }
    }
}

/// Walks the YAML node tree, collecting every problem rather than stopping at the first.
struct NodeReader {
    let file: String
    var problems: [RecipeProblem] = []

    /// The most YAML values (scalars, lists, mappings) a recipe's parameter defaults, inputs
    /// and checks may add up to once aliases are expanded. Yams resolves an alias by sharing
    /// the anchored node, so a few lines of anchors that alias each other ("billion laughs")
    /// stand for billions of values, and converting them one by one took minutes and
    /// gigabytes. The shipped recipes have fewer than a hundred; the limit leaves room for
    /// far larger ones.
    static let maxValues = 100_000
    private var valuesConverted = 0
    private var valueLimitReached = false

    init(file: String) {
        self.file = file
    }

    func location(_ node: Node?) -> RecipeLocation {
        let mark = node?.mark
        return RecipeLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    mutating func problem(_ node: Node?, _ field: String, _ message: String) {
        problems.append(RecipeProblem(location: location(node), field: field, message: message))
    }

    /// Counts one more value converted; false, with the problem reported once, when the
    /// recipe has passed `maxValues`. Conversion stops there, before the expansion costs.
    mutating func countValue(_ node: Node, _ field: String) -> Bool {
        guard !valueLimitReached else { return false }
        valuesConverted += 1
        guard valuesConverted <= Self.maxValues else {
            valueLimitReached = true
            problem(node, field, "the recipe expands to more than \(Self.maxValues) YAML values (anchors and aliases that repeat each other); write the values out, or alias less")
            return false
        }
        return true
    }

    /// The mapping's entries by key, with unknown keys reported.
    mutating func fields(_ node: Node, _ field: String, known: Set<String>) -> [String: Node] {
        guard let mapping = node.mapping else {
            problem(node, field, "must be a mapping")
            return [:]
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else {
                problem(key, field, "keys must be strings")
                continue
            }
            if !known.contains(name) {
                problem(key, field.isEmpty ? name : "\(field).\(name)", "unknown field (expected one of: \(known.sorted().joined(separator: ", ")))")
            }
            result[name] = value
        }
        return result
    }

    mutating func requiredString(_ fields: [String: Node], _ key: String, in field: String, parent: Node) -> String {
        guard let node = fields[key] else {
            problem(parent, field.isEmpty ? key : "\(field).\(key)", "is required")
            return ""
        }
        guard let text = node.scalar?.string, !text.isEmpty, node.tag.rawValue != Tag.Name.null.rawValue else {
            problem(node, field.isEmpty ? key : "\(field).\(key)", "must be a non-empty string")
            return ""
        }
        return text
    }

    /// A text that may be translated: one string (English), or a map by language with English
    /// required, as the explanations are (`title: {en: Networks, ja: ネットワーク}`).
    mutating func translatedText(_ fields: [String: Node], _ key: String, in field: String, parent: Node) -> [String: String] {
        let path = field.isEmpty ? key : "\(field).\(key)"
        guard let node = fields[key], node.mapping != nil else {
            let text = requiredString(fields, key, in: field, parent: parent)
            return text.isEmpty ? [:] : ["en": text]
        }
        var texts: [String: String] = [:]
        for (language, value) in self.fields(node, path, known: Set(RecipeWording.languages)) {
            guard let text = value.scalar?.string, !text.isEmpty, value.tag.rawValue != Tag.Name.null.rawValue else {
                problem(value, "\(path).\(language)", "must be a non-empty string")
                continue
            }
            texts[language] = text
        }
        if texts["en"] == nil { problem(node, "\(path).en", "an English \(key) is required") }
        return texts
    }

    mutating func recipe(_ root: Node) -> Recipe {
        let top = fields(root, "", known: ["name", "title", "description", "parameters", "steps"])
        let name = requiredString(top, "name", in: "", parent: root)
        let titles = translatedText(top, "title", in: "", parent: root)
        let description = top["description"]?.string ?? ""
        var parameters: [RecipeParameter] = []
        if let node = top["parameters"] {
            if let mapping = node.mapping {
                for (key, value) in mapping {
                    parameters.append(parameter(name: key.string ?? "", node: value, key: key))
                }
            } else if node.tag.rawValue != Tag.Name.null.rawValue {
                problem(node, "parameters", "must be a mapping of parameter names")
            }
        }
        var steps: [RecipeStep] = []
        if let node = top["steps"] {
            if let sequence = node.sequence {
                for (index, item) in sequence.enumerated() { steps.append(step(item, field: "steps[\(index)]")) }
            } else {
                problem(node, "steps", "must be a list of steps")
            }
        } else {
            problem(root, "steps", "is required")
        }
        return Recipe(name: name, title: titles["en"] ?? "", titles: titles, description: description, parameters: parameters, steps: steps, file: file)
    }

    mutating func parameter(name: String, node: Node, key: Node) -> RecipeParameter {
        let field = "parameters.\(name)"
        let entries = fields(node, field, known: ["type", "default", "help"])
        var type = RecipeValueType.string
        if let typeNode = entries["type"] {
            if let parsed = typeNode.string.flatMap(RecipeValueType.init(rawValue:)) {
                type = parsed
            } else {
                problem(typeNode, "\(field).type", "must be one of \(RecipeValueType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        var defaultValue: RecipeValue?
        if let defaultNode = entries["default"] {
            defaultValue = literal(defaultNode, field: "\(field).default")
            if let value = defaultValue, !type.accepts(value) {
                problem(defaultNode, "\(field).default", "is a \(value.type.rawValue), but the parameter's type is \(type.rawValue)")
            }
        }
        return RecipeParameter(name: name, type: type, defaultValue: defaultValue, help: entries["help"]?.string ?? "", location: location(key))
    }

    mutating func step(_ node: Node, field: String) -> RecipeStep {
        let entries = fields(node, field, known: ["id", "title", "explain", "action", "on", "inputs", "checks"])
        let id = requiredString(entries, "id", in: field, parent: node)
        let titles = translatedText(entries, "title", in: field, parent: node)
        let action = requiredString(entries, "action", in: field, parent: node)
        var explanation: [String: String] = [:]
        if let explain = entries["explain"] {
            for (language, text) in fields(explain, "\(field).explain", known: ["en", "ja"]) {
                explanation[language] = text.string ?? ""
            }
            if explanation["en"] == nil { problem(explain, "\(field).explain.en", "an English explanation is required") }
        }
        var environment = RecipeEnvironment.target
        if let on = entries["on"] {
            if let parsed = on.string.flatMap(RecipeEnvironment.init(rawValue:)) {
                environment = parsed
            } else {
                problem(on, "\(field).on", "must be 'source' or 'target'")
            }
        }
        var inputs: [String: RecipeInput] = [:]
        var inputLocations: [String: RecipeLocation] = [:]
        if let inputNode = entries["inputs"] {
            if let mapping = inputNode.mapping {
                for (key, value) in mapping {
                    let name = key.string ?? ""
                    inputs[name] = input(value, field: "\(field).inputs.\(name)")
                    inputLocations[name] = location(value)
                }
            } else {
                problem(inputNode, "\(field).inputs", "must be a mapping")
            }
        }
        var checks: [RecipeCheck] = []
        if let checkNode = entries["checks"] {
            if let sequence = checkNode.sequence {
                for (index, item) in sequence.enumerated() {
                    let checkField = "\(field).checks[\(index)]"
                    let checkEntries = fields(item, checkField, known: ["action", "inputs"])
                    let checkAction = requiredString(checkEntries, "action", in: checkField, parent: item)
                    var checkInputs: [String: RecipeInput] = [:]
                    if let mapping = checkEntries["inputs"]?.mapping {
                        for (key, value) in mapping { checkInputs[key.string ?? ""] = input(value, field: "\(checkField).inputs.\(key.string ?? "")") }
                    }
                    checks.append(RecipeCheck(action: checkAction, inputs: checkInputs, location: location(item)))
                }
            } else {
                problem(checkNode, "\(field).checks", "must be a list")
            }
        }
        return RecipeStep(id: id, title: titles["en"] ?? "", titles: titles, explanation: explanation, action: action, environment: environment,
                          inputs: inputs, checks: checks, location: location(node), actionLocation: location(entries["action"] ?? node),
                          inputLocations: inputLocations)
    }

    /// A value with no references (defaults).
    mutating func literal(_ node: Node, field: String) -> RecipeValue? {
        guard countValue(node, field) else { return nil }
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .int: return node.int.map(RecipeValue.integer) ?? .string(scalar.string)
            case .bool: return node.bool.map(RecipeValue.boolean) ?? .string(scalar.string)
            case .null: return nil
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            return .list(sequence.enumerated().compactMap { literal($0.element, field: "\(field)[\($0.offset)]") })
        case .mapping(let mapping):
            var result: [String: RecipeValue] = [:]
            for (key, value) in mapping { result[key.string ?? ""] = literal(value, field: "\(field).\(key.string ?? "")") }
            return .map(result)
        case .alias:
            problem(node, field, "aliases are not supported")
            return nil
        }
    }

    mutating func input(_ node: Node, field: String) -> RecipeInput {
        guard countValue(node, field) else { return .literal(.string("")) }
        switch node {
        case .scalar(let scalar) where node.tag.rawValue == Tag.Name.str.rawValue:
            return template(scalar.string, node: node, field: field)
        case .sequence(let sequence):
            return .list(sequence.enumerated().map { input($0.element, field: "\(field)[\($0.offset)]") })
        case .mapping(let mapping):
            var result: [String: RecipeInput] = [:]
            for (key, value) in mapping { result[key.string ?? ""] = input(value, field: "\(field).\(key.string ?? "")") }
            return .map(result)
        default:
            return .literal(literal(node, field: field) ?? .string(""))
        }
    }

    /// `${params.X}` alone is a reference (keeps the value's type); inside text it is interpolated.
    mutating func template(_ text: String, node: Node, field: String) -> RecipeInput {
        var parts: [RecipeInput.TemplatePart] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                problem(node, field, "unterminated reference '${' in '\(text)'")
                return .literal(.string(text))
            }
            let body = rest[open.upperBound..<close].trimmingCharacters(in: .whitespaces)
            let pieces = body.split(separator: ".").map(String.init)
            if pieces.count == 2, pieces[0] == "params" {
                parts.append(.reference(.parameter(pieces[1])))
            } else if pieces.count == 3, pieces[0] == "steps" {
                parts.append(.reference(.output(step: pieces[1], name: pieces[2])))
            } else {
                problem(node, field, "'${\(body)}' is not a reference: use ${params.NAME} or ${steps.STEP.OUTPUT}")
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        if parts.count == 1, case .reference(let reference) = parts[0] { return .reference(reference) }
        if parts.allSatisfy({ if case .text = $0 { return true } else { return false } }) { return .literal(.string(text)) }
        return .template(parts)
    }
}
