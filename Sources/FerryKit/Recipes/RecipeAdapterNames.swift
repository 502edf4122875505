import FerryCore
extension Recipe {
    /// The adapters a run of this recipe uses, so that a command starts only those plugins:
    /// the source and target environments, and every step input named `adapter` (an action
    /// that reads through a source adapter of its own, as `replication.replicate-source`
    /// does). `parameters` are the run's values, defaults included. `nil` when an `adapter`
    /// input is known only while the run goes on (an earlier step's output).
    public func adapterNames(source: String, target: String, parameters: [String: RecipeValue]) -> Set<String>? {
        var names: Set<String> = [source, target]
        for step in steps {
            guard let input = step.inputs["adapter"] else { continue }
            guard let name = Self.text(of: input, parameters: parameters) else { return nil }
            names.insert(name)
        }
        return names
    }

    private static func text(of input: RecipeInput, parameters: [String: RecipeValue]) -> String? {
        switch input {
        case .literal(let value):
            return value.string
        case .reference(.parameter(let name)):
            return parameters[name]?.string
        case .template(let parts):
            var text = ""
            for part in parts {
                switch part {
                case .text(let piece): text += piece
                case .reference(.parameter(let name)):
                    guard let value = parameters[name]?.string else { return nil }
                    text += value
                case .reference(.output): return nil
                }
            }
            return text
        case .reference(.output), .list, .map:
            return nil
        }
    }
}
