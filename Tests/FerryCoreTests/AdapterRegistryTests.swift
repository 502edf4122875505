import FerryCore
import FerryTestSupport
import Testing

@Suite("Adapter registry")
struct AdapterRegistryTests {
    @Test func registersAndFindsAdaptersByName() throws {
        var registry = AdapterRegistry()
        try registry.register(StubSource(name: "disks"))
        #expect(try registry.adapter(named: "disks").descriptor.name == "disks")
        #expect(registry.descriptors.map(\.name) == ["disks"])
    }

    @Test func rejectsADuplicateName() throws {
        var registry = AdapterRegistry()
        try registry.register(StubSource(name: "disks"))
        #expect(throws: AdapterError.duplicateName("disks")) {
            try registry.register(StubSource(name: "disks"))
        }
        #expect(registry.all.count == 1)
    }

    @Test func unknownNameListsTheKnownOnes() throws {
        var registry = AdapterRegistry()
        try registry.register(StubSource(name: "disks"))
        let error = #expect(throws: AdapterError.self) { try registry.adapter(named: "tape") }
        #expect(error == .notFound(name: "tape", known: ["disks"]))
        #expect(error?.description.contains("known: disks") == true)
    }

    @Test func findsAdaptersByKindAndCapability() throws {
        var registry = AdapterRegistry()
        try registry.register(StubSource(name: "disks"))
        try registry.register(NetworkOnlyTarget())
        #expect(registry.adapters(kind: .source).map(\.descriptor.name) == ["disks"])
        #expect(registry.adapters(kind: .target).map(\.descriptor.name) == ["net-only"])
        #expect(registry.adapters(with: .networking).map(\.descriptor.name) == ["net-only"])
        #expect(registry.adapters(with: .compute).isEmpty)
        let networking = try registry.networking(of: "net-only")
        #expect(networking.descriptor.name == "net-only")
        #expect(try registry.source(named: "disks").descriptor.name == "disks")
    }

    @Test func explainsAMissingCapability() throws {
        var registry = AdapterRegistry()
        try registry.register(StubSource(name: "disks"))
        try registry.register(NetworkOnlyTarget())
        let error = #expect(throws: AdapterError.self) { try registry.compute(of: "net-only") }
        #expect(error == .missingCapability(adapter: "net-only", capability: .compute, has: [.networking], providedBy: []))
        #expect(error?.description == "adapter 'net-only' lacks the 'compute' capability (it has: networking); no registered adapter provides it")
    }

    @Test func namesTheAdaptersThatHaveAMissingCapability() throws {
        var registry = AdapterRegistry()
        try registry.register(StubSource(name: "disks"))
        try registry.register(NetworkOnlyTarget())
        let error = #expect(throws: AdapterError.self) { try registry.networking(of: "disks") }
        #expect(error?.description.contains("adapters that provide it: net-only") == true)
    }

    @Test func refusesADescriptorThatClaimsAnUnimplementedCapability() {
        var registry = AdapterRegistry()
        let error = #expect(throws: AdapterError.self) { try registry.register(LyingTarget()) }
        #expect(error == .capabilityMismatch(adapter: "liar", capability: .compute, reason: "does not implement ComputeCapability"))
    }

    @Test func refusesATargetCapabilityOnASource() {
        var registry = AdapterRegistry()
        let error = #expect(throws: AdapterError.self) {
            try registry.register(StubSource(name: "odd", capabilities: [.discovery, .networking]))
        }
        guard case .capabilityMismatch(_, .networking, _) = error else {
            Issue.record("expected a capability mismatch, got \(String(describing: error))")
            return
        }
    }

    @Test func anUnavailableAdapterIsListedButRefusesWork() throws {
        var registry = AdapterRegistry()
        try registry.register(StubSource(name: "later", availability: .unavailable(reason: "not built yet")))
        #expect(registry.descriptors.first?.availability.isAvailable == false)
        let error = #expect(throws: AdapterError.self) { try registry.source(named: "later") }
        #expect(error == .unavailable(adapter: "later", reason: "not built yet"))
    }
}

@Suite("Adapter options")
struct AdapterConfigurationTests {
    let descriptor = StubSource(name: "disks").descriptor

    @Test func fillsInDefaults() throws {
        let configuration = try AdapterConfiguration(["disk": "/tmp/x.raw"], for: descriptor)
        #expect(configuration["disk"] == "/tmp/x.raw")
        #expect(configuration.integer("retries") == 3)
    }

    @Test func refusesAnUnknownOption() {
        #expect(throws: AdapterError.unknownOption(adapter: "disks", option: "colour", known: ["disk", "retries"])) {
            try AdapterConfiguration(["disk": "x", "colour": "red"], for: descriptor)
        }
    }

    @Test func refusesAValueOfTheWrongType() {
        #expect(throws: AdapterError.invalidOptionValue(adapter: "disks", option: "retries", value: "many", expected: "integer")) {
            try AdapterConfiguration(["disk": "x", "retries": "many"], for: descriptor)
        }
    }

    @Test func refusesAMissingRequiredOption() {
        #expect(throws: AdapterError.missingOption(adapter: "disks", option: "disk", help: "a disk")) {
            try AdapterConfiguration([:], for: descriptor)
        }
    }
}
