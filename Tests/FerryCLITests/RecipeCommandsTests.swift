import FerryCore
import FerryKit
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import FerryTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Recipes run, resumed and destroyed by the `ferry` executable against the sandbox
/// target's networking (real state in the workspace; no instance boots here).
@Suite("ferry recipe", .serialized)
struct RecipeCommandsTests {
    final class Project {
        let directory: URL
        var workspace: String { directory.appendingPathComponent("ws").path }

        init() throws {
            directory = try FerryProcess.temporaryDirectory()
            #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        }

        func recipe(_ name: String, _ yaml: String) throws -> String {
            let path = directory.appendingPathComponent("\(name).yaml").path
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func ferry(_ arguments: [String]) throws -> FerryProcess.Result {
            try FerryProcess.run(arguments + ["--workspace", workspace], in: directory)
        }

        func json(_ arguments: [String]) throws -> Any {
            let result = try ferry(arguments + ["--output", "json"])
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        }

        func runs() throws -> [[String: Any]] { try json(["recipe", "status"]) as? [[String: Any]] ?? [] }

        func run(_ id: String) throws -> [String: Any] { try json(["recipe", "status", id]) as? [String: Any] ?? [:] }

        func cleanUp() { try? FileManager.default.removeItem(at: directory) }
    }

    static func networks(port: Int, timeout: Int) -> String {
        """
        name: networks
        title: Networks and a check
        steps:
          - id: source-network
            title: SourceVPC
            explain: {en: The source network., ja: 移行元のネットワーク。}
            action: network.create-vpc
            inputs: {name: SourceVPC, cidr: 10.0.0.0/16, subnet_cidr: 10.0.1.0/24}
          - id: web-group
            title: Web security group
            explain: {en: HTTP from anywhere.}
            action: network.create-security-group
            inputs:
              vpc_id: ${steps.source-network.vpc_id}
              name: web
              ingress: ["tcp:80:0.0.0.0/0", "tcp:1500:10.0.0.0/16"]
          - id: check
            title: The web answers
            explain: {en: Waits for a web server.}
            action: verify.http
            inputs: {url: "http://127.0.0.1:\(port)/", timeout_seconds: \(timeout)}
          - id: target-network
            title: TargetVPC
            explain: {en: The target network.}
            action: network.create-vpc
            inputs: {name: TargetVPC, cidr: 10.2.0.0/16, subnet_cidr: 10.2.1.0/24, public: false}
        """
    }

    /// A web server for the check to find: Python's, on `port`.
    static func webServer(port: Int, in directory: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1"]
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if let url = URL(string: "http://127.0.0.1:\(port)/"), (try? Data(contentsOf: url)) != nil { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return process
    }

    @Test func aRunCreatesRecordsDrawsAndDestroys() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let port = try LocalPort.free()
        let web = try Self.webServer(port: port, in: project.directory)
        defer { web.terminate() }
        let file = try project.recipe("networks", Self.networks(port: port, timeout: 20))

        let result = try project.ferry(["recipe", "run", file, "--yes"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("== Step 1/4: SourceVPC"))
        #expect(result.stdout.contains("The source network."))
        let runID = try #require(try project.runs().first?["id"] as? String)
        let run = try project.run(runID)
        #expect(run["status"] as? String == "succeeded")
        let resources = try #require(run["resources"] as? [[String: Any]])
        // SourceVPC: vpc, subnet, gateway, route table; web group; TargetVPC: vpc, subnet.
        #expect(resources.count == 7)

        // One diagram per step, each a well-formed SVG naming what exists.
        let diagrams = try project.ferry(["recipe", "diagram", runID]).stdout.split(separator: "\n").map(String.init)
        #expect(diagrams.count == 4)
        let last = try String(contentsOfFile: try #require(diagrams.last), encoding: .utf8)
        #expect(XMLParser(data: Data(last.utf8)).parse())
        #expect(last.contains("SourceVPC") && last.contains("TargetVPC"))

        let destroyed = try project.ferry(["recipe", "destroy", runID])
        #expect(destroyed.status == 0, "\(destroyed.stderr)")
        #expect(destroyed.stdout.contains("Removed 7 resources"))
        #expect(try project.run(runID)["status"] as? String == "destroyed")
        let again = try project.ferry(["recipe", "destroy", runID])
        #expect(again.status == 0)
        #expect(again.stdout.contains("Nothing left to remove"))
    }

    @Test func resumeContinuesFromTheFailedStepWithoutRedoingFinishedOnes() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let port = try LocalPort.free()
        let file = try project.recipe("networks", Self.networks(port: port, timeout: 1))

        let failed = try project.ferry(["recipe", "run", file, "--yes"])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("stopped at step 'check'"))
        #expect(failed.stderr.contains("ferry recipe resume"))
        let runID = try #require(try project.runs().first?["id"] as? String)
        let before = try #require(try project.run(runID)["resources"] as? [[String: Any]])
        #expect(before.count == 5)

        let web = try Self.webServer(port: port, in: project.directory)
        defer { web.terminate() }
        let resumed = try project.ferry(["recipe", "resume", runID, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(!resumed.stdout.contains("Step 1/4"), "finished steps are not redone")
        #expect(resumed.stdout.contains("Step 3/4"))
        let run = try project.run(runID)
        #expect(run["status"] as? String == "succeeded")
        #expect((run["resources"] as? [[String: Any]])?.count == 7)
        _ = try project.ferry(["recipe", "destroy", runID])
    }

    @Test func destroyAfterACrashRemovesWhatWasRecorded() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let file = try project.recipe("networks", Self.networks(port: try LocalPort.free(), timeout: 120))
        let process = Process()
        process.executableURL = FerryProcess.executable
        process.arguments = ["recipe", "run", file, "--yes", "--workspace", project.workspace]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the run is inside the check (step 3), then kill it without warning.
        var runID: String?
        for _ in 0..<200 {
            if let id = try project.runs().first?["id"] as? String,
               let steps = try project.run(id)["steps"] as? [[String: Any]], steps.count == 4, steps[2]["status"] as? String == "running" {
                runID = id
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let id = try #require(runID)
        #expect(try project.run(id)["status"] as? String == "running")

        let destroyed = try project.ferry(["recipe", "destroy", id])
        #expect(destroyed.status == 0, "\(destroyed.stderr)")
        #expect(destroyed.stdout.contains("Removed 5 resources"))
        let run = try project.run(id)
        #expect((run["resources"] as? [[String: Any]])?.allSatisfy { $0["destroyedAt"] != nil } == true)
    }

    /// One step that creates a network and then waits for a web server on `port`.
    static func networkWithCheck(port: Int) -> String {
        """
        name: checked-network
        title: A network and a check inside its step
        steps:
          - id: source-network
            title: SourceVPC
            explain: {en: The source network.}
            action: network.create-vpc
            inputs: {name: SourceVPC, cidr: 10.0.0.0/16, subnet_cidr: 10.0.1.0/24}
            checks:
              - action: verify.http
                inputs: {url: "http://127.0.0.1:\(port)/", timeout_seconds: 120}
        """
    }

    @Test func aKilledRunShowsAsInterruptedAndItsResumeRemovesWhatTheKilledStepMade() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let port = try LocalPort.free()
        let file = try project.recipe("checked-network", Self.networkWithCheck(port: port))
        let process = Process()
        process.executableURL = FerryProcess.executable
        process.arguments = ["recipe", "run", file, "--yes", "--workspace", project.workspace]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the step has made its network and waits in its check, then kill the run.
        var runID: String?
        for _ in 0..<300 where runID == nil {
            if let id = try project.runs().first?["id"] as? String, (try project.run(id)["resources"] as? [[String: Any]])?.count == 4 {
                runID = id
            } else {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        let pid = process.processIdentifier
        kill(pid, SIGKILL)
        process.waitUntilExit()
        let id = try #require(runID)

        let text = try project.ferry(["recipe", "status"])
        #expect(text.stdout.contains("interrupted (pid \(pid) gone)"), "\(text.stdout)")
        #expect(text.stdout.contains("ferry recipe resume \(id)"))
        let json = try project.run(id)
        #expect(json["status"] as? String == "running", "the record is left as it was")
        let interruption = try #require(json["interruption"] as? [String: Any])
        #expect(interruption["summary"] as? String == "interrupted (pid \(pid) gone)")
        #expect(interruption["resume"] as? String == "ferry recipe resume \(id)")

        let web = try Self.webServer(port: port, in: project.directory)
        defer { web.terminate() }
        let resumed = try project.ferry(["recipe", "resume", id, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("removed vpc"))
        let run = try project.run(id)
        #expect(run["interruption"] == nil)
        let resources = try #require(run["resources"] as? [[String: Any]])
        // The killed attempt's four resources are gone; the second attempt's four are live.
        #expect(resources.count == 8)
        #expect(resources.prefix(4).allSatisfy { $0["destroyedAt"] != nil })
        #expect(resources.suffix(4).allSatisfy { $0["destroyedAt"] == nil })
        _ = try project.ferry(["recipe", "destroy", id])
    }

    @Test func planShowsWhatWouldBeCreatedAndTouchesNothing() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let file = try project.recipe("networks", Self.networks(port: 1, timeout: 1))
        let plan = try project.ferry(["recipe", "plan", file])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("create VPC SourceVPC 10.0.0.0/16"))
        #expect(plan.stdout.contains("create security group web allowing in tcp:80:0.0.0.0/0"))
        #expect(try project.runs().isEmpty)
    }

    @Test func aBrokenRecipeIsRejectedBeforeAnythingIsCreated() throws {
        let project = try Project()
        defer { project.cleanUp() }
        let broken = Self.networks(port: 1, timeout: 1)
            .replacingOccurrences(of: "action: verify.http", with: "action: verify.htp")
            .replacingOccurrences(of: "public: false", with: "public: maybe")
        let file = try project.recipe("broken", broken)
        let result = try project.ferry(["recipe", "run", file, "--yes"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("broken.yaml:20:"))
        #expect(result.stderr.contains("steps[2].action: unknown action 'verify.htp'"))
        #expect(result.stderr.contains("steps[3].inputs.public: must be a boolean, not a string"))
        #expect(try project.runs().isEmpty)
    }

    @Test func theShippedRecipesAreValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let result = try FerryProcess.run(["recipe", "list", "--output", "json"], in: root)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(!list.isEmpty)
        for recipe in list { #expect(recipe["problem"] == nil, "\(recipe["name"] ?? ""): \(recipe["problem"] ?? "")") }
    }

    @Test func theBuiltInRecipesAreListedFromAnyFolderAfterTheLocalOnesThatOverrideThem() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let builtIn = try FerryProcess.run(["recipe", "list"], in: directory)
        #expect(builtIn.status == 0, "\(builtIn.stderr)")
        for name in ["workshop", "migration-networks", "vmware-migration"] {
            #expect(builtIn.stdout.split(separator: "\n").contains { $0.hasPrefix(name + " ") && $0.hasSuffix("built-in") }, "\(builtIn.stdout)")
        }
        let recipes = directory.appendingPathComponent("recipes")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        try Self.networks(port: 1, timeout: 1).replacingOccurrences(of: "name: networks", with: "name: workshop")
            .write(to: recipes.appendingPathComponent("workshop.yaml"), atomically: true, encoding: .utf8)
        let result = try FerryProcess.run(["recipe", "list", "--output", "json"], in: directory)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(list.first?["name"] as? String == "workshop")
        #expect(list.first?["origin"] as? String == "local")
        #expect(list.first?["overridesBuiltIn"] as? Bool == true)
        #expect(list.first?["steps"] as? Int == 4)
        let shadowed = try #require(list.first { $0["name"] as? String == "workshop" && $0["origin"] as? String == "built-in" })
        #expect((shadowed["source"] as? String)?.hasPrefix("built-in, overridden by ") == true)
        let text = try FerryProcess.run(["recipe", "list"], in: directory)
        #expect(text.stdout.contains("(overrides the built-in)"), "\(text.stdout)")
    }

    @Test func theWorkshopWithOutputJSONPrintsTheRunAsJSONAndNothingElse() throws {
        let project = try Project()
        defer { project.cleanUp() }
        // A local workshop of networks only: no machine, so no base image to build.
        let recipes = project.directory.appendingPathComponent("recipes")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        let yaml = Self.networks(port: 1, timeout: 1).replacingOccurrences(of: "name: networks", with: "name: workshop")
            .components(separatedBy: "\n  - id: check")[0]
        try yaml.write(to: recipes.appendingPathComponent("workshop.yaml"), atomically: true, encoding: .utf8)
        let result = try project.ferry(["workshop", "--yes", "--output", "json"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let run = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(run["recipe"] as? String == "workshop")
        #expect(run["status"] as? String == "succeeded")
        #expect((run["steps"] as? [Any])?.count == 2)
        _ = try project.ferry(["recipe", "destroy", try #require(run["id"] as? String)])
    }

    @Test func aCommandThatFailsOnItsRecipeLeavesNoWorkspaceBehind() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let unknown = try FerryProcess.run(["recipe", "run", "no-such-recipe", "--yes"], in: directory)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no recipe 'no-such-recipe'"), "\(unknown.stderr)")
        // The workshop reads its recipe, here a broken local one, before it makes a workspace.
        let recipes = directory.appendingPathComponent("recipes")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        try "name: workshop\n".write(to: recipes.appendingPathComponent("workshop.yaml"), atomically: true, encoding: .utf8)
        let workshop = try FerryProcess.run(["workshop", "--yes"], in: directory)
        #expect(workshop.status != 0)
        #expect(workshop.stderr.contains("steps: is required"), "\(workshop.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(".ferry").path))
    }
}
