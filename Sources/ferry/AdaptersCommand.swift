import ArgumentParser
import FerryKit

struct AdaptersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapters",
        abstract: "List the source and target adapters, their capabilities and options."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let descriptors = try BuiltInAdapters.registry(workspaceRoot: global.workspaceURL).descriptors
        switch global.output {
        case .json:
            try Output.json(descriptors.map(AdapterListing.init))
        case .text:
            Output.table(
                ["NAME", "KIND", "VERSION", "STATUS", "CAPABILITIES"],
                descriptors.map { d in
                    [d.name, d.kind.rawValue, d.version, d.availability.isAvailable ? "available" : "not built",
                     d.capabilities.isEmpty ? "-" : d.capabilities.map(\.rawValue).joined(separator: ",")]
                }
            )
            for d in descriptors {
                print("\n\(d.name): \(d.summary)")
                if case .unavailable(let reason) = d.availability { print("  not available: \(reason)") }
                for option in d.options {
                    var line = "  --\(option.name) <\(option.type)>  \(option.help)"
                    if let value = option.defaultValue { line += " (default: \(value))" }
                    if option.isRequired { line += " (required)" }
                    print(line)
                }
            }
        }
    }
}

/// The JSON shape of one adapter in `ferry adapters --output json`.
struct AdapterListing: Encodable {
    struct Option: Encodable {
        var name: String
        var type: String
        var `default`: String?
        var required: Bool
        var help: String
    }

    var name: String
    var kind: String
    var version: String
    var summary: String
    var available: Bool
    var unavailableReason: String?
    var capabilities: [String]
    var options: [Option]

    init(_ d: AdapterDescriptor) {
        name = d.name
        kind = d.kind.rawValue
        version = d.version
        summary = d.summary
        available = d.availability.isAvailable
        if case .unavailable(let reason) = d.availability { unavailableReason = reason }
        capabilities = d.capabilities.map(\.rawValue)
        options = d.options.map { Option(name: $0.name, type: $0.type.description, default: $0.defaultValue, required: $0.isRequired, help: $0.help) }
    }
}
