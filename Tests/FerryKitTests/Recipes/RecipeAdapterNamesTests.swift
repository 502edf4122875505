import FerryCore
import FerryKit
import Testing

/// Which adapters a recipe run uses, known before it starts, so that only their plugins start.
@Suite("the adapters a recipe names")
struct RecipeAdapterNamesTests {
    func recipe(adapter: String) throws -> Recipe {
        try RecipeLoader.parse(yaml: """
            name: demo
            title: Demo
            parameters:
              source_kind: {type: string, default: qcow2, help: the source adapter}
            steps:
              - id: server
                title: Server
                action: replication.start-server
                inputs: {}
              - id: replicate
                title: Replicate
                action: replication.replicate-source
                inputs:
                  adapter: \(adapter)
                  options: {path: /srv/web1.qcow2}
                  server: ${steps.server.address}
            """, file: "demo.yaml")
    }

    @Test func theEnvironmentsAndALiteralAdapterInput() throws {
        #expect(try recipe(adapter: "vmware").adapterNames(source: "sandbox", target: "aws", parameters: [:]) == ["sandbox", "aws", "vmware"])
    }

    @Test func anAdapterNamedThroughAParameterTakesTheRunsValue() throws {
        let names = try recipe(adapter: "${params.source_kind}").adapterNames(source: "sandbox", target: "sandbox", parameters: ["source_kind": .string("raw-files")])
        #expect(names == ["sandbox", "raw-files"])
        #expect(try recipe(adapter: "ferry-${params.source_kind}").adapterNames(source: "sandbox", target: "sandbox", parameters: ["source_kind": .string("x")]) == ["sandbox", "ferry-x"])
    }

    @Test func anAdapterKnownOnlyWhileTheRunGoesOnMeansEveryPlugin() throws {
        #expect(try recipe(adapter: "${steps.server.address}").adapterNames(source: "sandbox", target: "sandbox", parameters: [:]) == nil)
    }
}
