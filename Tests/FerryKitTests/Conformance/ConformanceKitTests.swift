import Foundation
import Testing
import FerryCore
@testable import FerryKit

/// The conformance kit on plugins that stop, crash, or keep change stamps badly: each check
/// is about the plugin as it was asked, never about one that was not asked.
@Suite("conformance kit", .serialized)
struct ConformanceKitTests {
    let directory: URL
    let image: String
    let timeouts = PluginTimeouts(describe: 5, call: 5)

    init() throws {
        directory = try FixturePlugin.temporaryDirectory()
        image = directory.appendingPathComponent("web1.raw").path
        try FixturePlugin.writeImage(image, size: 3 << 20, regions: [ByteRange(offset: 0, length: 70_000), ByteRange(offset: 1 << 20, length: 600_000)])
    }

    func kit(_ behaviour: FixturePlugin.Behaviour) async throws -> [String: ConformanceCheck] {
        let (adapter, configuration, _) = try await FixturePlugin.load(behaviour, in: directory, image: image, timeouts: timeouts)
        let checks = await AdapterConformanceKit(adapter: adapter, configuration: configuration).run()
        return Dictionary(uniqueKeysWithValues: checks.map { ($0.id, $0) })
    }

    @Test func checksAfterThePluginStoppedAreSkippedAndSayWhere() async throws {
        // It contradicts itself at its first read, in reads-deterministic, and is not asked again.
        let checks = try await kit(.shortRead)
        #expect(checks["reads-deterministic"]?.outcome == .fail)
        for id in ["allocated-ranges", "concurrent-reads", "reads-past-end"] {
            let check = try #require(checks[id])
            #expect(check.outcome == .skip, "\(id): \(check.detail)")
            #expect(check.detail.contains("the plugin stopped at check 'reads-deterministic'"), "\(id): \(check.detail)")
        }
    }

    @Test func aCrashFailsTheCheckItHappenedInAndLaterChecksAskTheRestartedPlugin() async throws {
        let checks = try await kit(.crashOnce)
        let crashed = try #require(checks["reads-deterministic"])
        #expect(crashed.outcome == .fail)
        #expect(crashed.detail.contains("exited (exit status 3) during source.read, and Ferry started it again"), "\(crashed.detail)")
        for id in ["allocated-ranges", "concurrent-reads", "reads-past-end"] {
            #expect(checks[id]?.outcome == .pass, "\(id): \(checks[id]?.detail ?? "missing")")
        }
    }

    @Test func aChangeStampThatHoldsStillWhileNothingChangesPasses() async throws {
        let checks = try await kit(.stamped)
        let stable = try #require(checks["change-stamp-stable"])
        #expect(stable.outcome == .pass, "\(stable.detail)")
    }

    @Test func aChangeStampThatMovesWhileNothingChangesFails() async throws {
        let checks = try await kit(.restlessStamp)
        let stable = try #require(checks["change-stamp-stable"])
        #expect(stable.outcome == .fail)
        #expect(stable.detail.contains("changed although nothing was written"), "\(stable.detail)")
    }

    func kit(_ behaviour: FixturePlugin.Behaviour, writing: Bool) async throws -> [String: ConformanceCheck] {
        let (adapter, configuration, _) = try await FixturePlugin.load(behaviour, in: directory, image: image, timeouts: timeouts)
        let checks = await AdapterConformanceKit(adapter: adapter, configuration: configuration, diskChange: writing ? .rewriteMiddleByte : nil).run()
        return Dictionary(uniqueKeysWithValues: checks.map { ($0.id, $0) })
    }

    @Test func aChangeStampThatFollowsAWriteToTheTestsOwnImagePasses() async throws {
        let before = try Data(contentsOf: URL(fileURLWithPath: image))
        let checks = try await kit(.stamped, writing: true)
        let follows = try #require(checks["change-stamp-follows-writes"])
        #expect(follows.outcome == .pass, "\(follows.detail)")
        #expect(follows.detail.contains("rewritten with its own value"), "\(follows.detail)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: image)) == before)
    }

    @Test func aChangeStampThatIgnoresAWriteFails() async throws {
        let checks = try await kit(.frozenStamp, writing: true)
        #expect(checks["change-stamp-stable"]?.outcome == .pass)
        let follows = try #require(checks["change-stamp-follows-writes"])
        #expect(follows.outcome == .fail)
        #expect(follows.detail.contains("stayed \"always the same\" after a write to the disk"), "\(follows.detail)")
    }

    @Test func withoutLeaveToWriteTheWriteCheckIsSkippedAndTheDiskUntouched() async throws {
        let modified = try FileManager.default.attributesOfItem(atPath: image)[.modificationDate] as? Date
        let checks = try await kit(.stamped, writing: false)
        #expect(checks["change-stamp-follows-writes"]?.outcome == .skip)
        #expect(try FileManager.default.attributesOfItem(atPath: image)[.modificationDate] as? Date == modified)
    }

    @Test func anAdapterWithoutChangeTrackingGetsNoStampChecks() async throws {
        let checks = try await kit(.good, writing: true)
        #expect(checks["change-stamp-stable"] == nil && checks["change-stamp-follows-writes"] == nil)
        #expect(checks.values.allSatisfy { $0.outcome == .pass }, "\(checks.values.filter { $0.outcome != .pass })")
    }
}
