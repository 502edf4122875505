import FerryCore
import Foundation

/// What a plugin says about itself in answer to `describe`, checked and turned into the
/// `AdapterDescriptor` every adapter has.
struct PluginDescription: Decodable, Equatable, Sendable {
    struct Option: Decodable, Equatable, Sendable {
        var name: String
        var type: String
        var choices: [String]?
        var `default`: String?
        var required: Bool?
        var help: String?
    }

    var protocolVersion: Int
    var name: String
    var kind: String
    var version: String
    var summary: String?
    var capabilities: [String]
    var options: [Option]?
    /// Targets: whether `volumeImport.begin` accepts a parent.
    var incrementalImport: Bool?
    /// How many processes of the plugin Ferry may run at once (1 to 8; 1 when absent).
    var parallelProcesses: Int?

    /// The params Ferry sends with `describe`.
    struct Request: Encodable {
        var protocolVersions = PluginProtocol.supportedVersions
        var ferryVersion = FerryVersion.current
    }

    /// The descriptor, or why this description is not acceptable from a plugin installed as
    /// `ferry-adapter-<expectedName>`.
    func descriptor(expectedName: String) throws(PluginDescriptionError) -> AdapterDescriptor {
        guard PluginProtocol.supportedVersions.contains(protocolVersion) else {
            throw .init("it speaks plugin protocol version \(protocolVersion); this Ferry speaks \(PluginProtocol.supportedVersions.map(String.init).joined(separator: ", "))")
        }
        guard AdapterNames.isValid(name) else { throw .init("its name \(name.debugDescription) is not valid (lowercase letters, digits and dashes, starting with a letter)") }
        guard name == expectedName else {
            throw .init("it calls itself \(name.debugDescription), but its executable is named for \(expectedName.debugDescription)")
        }
        guard let kind = AdapterKind(rawValue: kind) else { throw .init("its kind \(self.kind.debugDescription) is neither \"source\" nor \"target\"") }
        var capabilities: [Capability] = []
        for text in self.capabilities {
            guard let capability = Capability(rawValue: text) else {
                throw .init("it claims the unknown capability \(text.debugDescription) (known: \(Capability.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard capability.kind == kind else { throw .init("it claims '\(text)', a \(capability.kind.rawValue) capability, as a \(kind.rawValue) adapter") }
            guard !capability.isBuiltInOnly else {
                throw .init("it claims '\(text)', which the plugin protocol does not carry: it reaches into this machine, as only the sandbox does (see docs/plugin-protocol.md)")
            }
            if !capabilities.contains(capability) { capabilities.append(capability) }
        }
        if kind == .source {
            for required in [Capability.discovery, .blockRead] where !capabilities.contains(required) {
                throw .init("a source adapter must claim '\(required.rawValue)'")
            }
        } else if capabilities.isEmpty {
            throw .init("a target adapter must claim at least one capability")
        }
        guard !version.isEmpty else { throw .init("it gives no version") }
        if let parallelProcesses, !(1...8).contains(parallelProcesses) {
            throw .init("parallelProcesses is \(parallelProcesses); it must be between 1 and 8")
        }
        var options: [AdapterOption] = []
        for option in self.options ?? [] {
            guard AdapterNames.isValid(option.name) else { throw .init("its option name \(option.name.debugDescription) is not valid") }
            guard !options.contains(where: { $0.name == option.name }) else { throw .init("it describes option '\(option.name)' twice") }
            let type: AdapterOptionType
            switch option.type {
            case "string": type = .string
            case "integer": type = .integer
            case "boolean": type = .boolean
            case "path": type = .path
            case "choice":
                guard let choices = option.choices, !choices.isEmpty else { throw .init("its choice option '\(option.name)' has no choices") }
                type = .choice(choices)
            default:
                throw .init("its option '\(option.name)' has the unknown type \(option.type.debugDescription)")
            }
            if let value = option.default, !type.accepts(value) {
                throw .init("the default \(value.debugDescription) of its option '\(option.name)' is not a \(type)")
            }
            options.append(AdapterOption(name: option.name, type: type, defaultValue: option.default, isRequired: option.required ?? false, help: option.help ?? ""))
        }
        return AdapterDescriptor(name: name, kind: kind, version: version, summary: summary ?? "", capabilities: capabilities.sorted(), options: options)
    }
}

struct PluginDescriptionError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The names adapters and their options may have.
public enum AdapterNames {
    /// Lowercase letters, digits and dashes, starting with a letter.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
