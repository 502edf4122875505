import Foundation
import Testing

/// Options that mean one thing everywhere, and refusals that say what would be accepted.
@Suite("ferry: consistent options")
struct OptionConsistencyTests {
    @Test func theTopLevelHelpStartsWithTheWorkshop() throws {
        let help = try FerryProcess.run(["--help"]).stdout
        let discussion = try #require(help.components(separatedBy: "\n\n").first { !$0.hasPrefix("OVERVIEW") && !$0.hasPrefix("USAGE") })
        #expect(discussion.trimmingCharacters(in: .whitespaces).hasPrefix("Start with `ferry workshop`"), "\(help)")
        let subcommands = try #require(help.components(separatedBy: "SUBCOMMANDS:").last)
        #expect(subcommands.split(separator: "\n").first?.trimmingCharacters(in: .whitespaces).hasPrefix("workshop") == true, "\(subcommands)")
    }

    @Test func bothExportsWriteTheFileNamedByDashOOrDashDashTo() throws {
        for command in [["disk", "export"], ["snapshot", "export"]] {
            let help = try FerryProcess.run(command + ["--help"]).stdout
            #expect(help.contains("-o, --to <"), "\(command): \(help)")
            #expect(!help.contains("--out "), "\(command): \(help)")
        }
    }

    @Test func snapshotExportStillTakesTheOldOutAsADeprecatedSpelling() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        let old = try FerryProcess.run(["snapshot", "export", "pit-none", "--out", "x.raw", "--workspace", workspace])
        #expect(old.stderr.contains("--out is deprecated"), "\(old.stderr)")
        #expect(old.stderr.contains("pit-none"), "it got as far as looking the snapshot up: \(old.stderr)")
        let both = try FerryProcess.run(["snapshot", "export", "pit-none", "--out", "x.raw", "--to", "y.raw", "--workspace", workspace])
        #expect(both.status != 0 && both.stderr.contains("give one of them"))
    }

    @Test func sandboxStartTakesWait() throws {
        let help = try FerryProcess.run(["sandbox", "start", "--help"]).stdout
        #expect(help.contains("--wait"), "\(help)")
    }

    @Test func recipeShowRefusesALanguageItHasNot() throws {
        let refused = try FerryProcess.run(["recipe", "show", "workshop", "--lang", "xx"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--lang must be en or ja"), "\(refused.stderr)")
        #expect(try FerryProcess.run(["recipe", "show", "workshop", "--lang", "ja"]).status == 0)
    }

    @Test func aWorkshopTitleThatCarriesItsNumberIsNotNumberedAgain() throws {
        let shown = try FerryProcess.run(["recipe", "show", "workshop"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("\n1. Networks"), "\(shown.stdout)")
        #expect(!shown.stdout.contains("1. 1."))
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        let plan = try FerryProcess.run(["recipe", "plan", "workshop", "--workspace", workspace])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(!plan.stdout.contains("1. 1."), "\(plan.stdout)")
    }

    @Test func aWrongParamIsRefusedWithTheRecipesParametersNotTheGenericUsage() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        for param in ["post_title", "no_such=1"] {
            let refused = try FerryProcess.run(["recipe", "plan", "workshop", "--param", param, "--workspace", workspace])
            #expect(refused.status != 0)
            #expect(!refused.stderr.contains("Usage: ferry <subcommand>"), "\(param): \(refused.stderr)")
            #expect(refused.stderr.contains("--param post_title=STRING (default Written during replication)"), "\(param): \(refused.stderr)")
        }
    }

    @Test func aRecipeFileNamedOtherwiseThanItsRecipeIsRefusedSayingWhy() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let recipes = directory.appendingPathComponent("recipes")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        try """
        name: other-name
        title: Misnamed
        steps:
          - id: vpc
            title: A VPC
            explain: {en: A network.}
            action: network.create-vpc
            inputs: {name: A, cidr: 10.0.0.0/16, subnet_cidr: 10.0.1.0/24}
        """.write(to: recipes.appendingPathComponent("misnamed.yaml"), atomically: true, encoding: .utf8)
        let listed = try FerryProcess.run(["recipe", "list"], in: directory)
        #expect(listed.stdout.contains("misnamed") && listed.stdout.contains("INVALID"), "\(listed.stdout)")
        let shown = try FerryProcess.run(["recipe", "show", "misnamed"], in: directory)
        #expect(shown.status != 0)
        #expect(shown.stderr.contains("named 'other-name' but its file is misnamed.yaml"), "\(shown.stderr)")
    }
}
