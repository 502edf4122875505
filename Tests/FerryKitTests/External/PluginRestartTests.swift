import Foundation
import Testing
import FerryCore
@testable import FerryKit

/// A plugin process that crashes is started again, a bounded number of times, with its disks
/// opened again; past the bound Ferry gives up with an error that names the plugin.
@Suite("plugin restarts", .serialized)
struct PluginRestartTests {
    let directory: URL
    let image: String
    let size: UInt64 = 3 << 20
    let timeouts = PluginTimeouts(describe: 5, call: 5)

    init() throws {
        directory = try FixturePlugin.temporaryDirectory()
        image = directory.appendingPathComponent("web1.raw").path
        try FixturePlugin.writeImage(image, size: size, regions: [ByteRange(offset: 0, length: 70_000), ByteRange(offset: 1 << 20, length: 600_000)])
    }

    var imageBytes: [UInt8] { get throws { try [UInt8](Data(contentsOf: URL(fileURLWithPath: image))) } }

    func crashes() -> [String] {
        ((try? String(contentsOfFile: image + ".crashes", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func aPluginThatCrashesOnceIsStartedAgainAndTheReadsGoOn() async throws {
        let (adapter, configuration, disk) = try await FixturePlugin.load(.crashOnce, in: directory, image: image, timeouts: timeouts)
        let reader = try adapter.openDisk(disk, configuration: configuration)
        let expected = try imageBytes
        // The third read kills the first process; every read still answers, the same bytes.
        for index in 0..<8 {
            let offset = index * 300_000
            #expect(try reader.read(at: UInt64(offset), count: 65_536) == Array(expected[offset..<offset + 65_536]), "read \(index)")
        }
        #expect(FileManager.default.fileExists(atPath: image + ".crashed"), "the plugin never crashed")
        #expect(try reader.allocatedRanges() == [ByteRange(offset: 0, length: size)])
        // One restart, and the reason for it. A process that had not opened the disk again
        // would have failed its next read (an unknown handle) and been restarted once more.
        #expect(adapter.plugin.restartCount == 1)
        #expect(adapter.plugin.recentRestarts.map(\.after.reason) == [.exited(status: "exit status 3")])
        #expect(adapter.plugin.stoppedReason == nil)
    }

    @Test func aPluginThatKeepsCrashingIsGivenUpOnAfterThreeRestarts() async throws {
        let (adapter, configuration, disk) = try await FixturePlugin.load(.crashOnRead, in: directory, image: image, timeouts: timeouts)
        let reader = try adapter.openDisk(disk, configuration: configuration)
        let error = try #require(throws: PluginError.self) { try reader.read(at: 0, count: 4096) }
        // The first process and three restarts, each killed by the read.
        #expect(crashes().count == 4, "\(crashes())")
        #expect(Set(crashes()).count == 4)
        #expect(error.plugin == "fixture")
        #expect(error.reason == .gaveUp(restarts: 3, window: 600, last: "exited (exit status 3) during source.read"))
        #expect(error.description.contains("gave up"), "\(error)")
        #expect(error.description.contains("exit status 3"), "\(error)")
        #expect(error.description.contains("segmentation fault (simulated)"), "\(error)")
        #expect(error.description.contains(adapter.plugin.path))
        // Not asked again: no fifth process, for reads or anything else.
        let again = try #require(throws: PluginError.self) { try reader.read(at: 0, count: 4096) }
        #expect(again.reason == error.reason)
        let discovery = try await #require(throws: PluginError.self) { try await adapter.discoverMachines(configuration: configuration) }
        #expect(discovery.reason == error.reason)
        #expect(crashes().count == 4)
    }
}

/// The policy's window, without a plugin.
@Suite struct PluginRestartPolicyTests {
    @Test func onlyRestartsWithinTheWindowCount() {
        let policy = PluginRestartPolicy(maximumRestarts: 3, window: 600)
        let now = Date()
        let failure = PluginError(plugin: "p", path: "/p", reason: .exited(status: "exit status 1"))
        let restarts = [700.0, 599.0, 10.0].map { PluginRestart(date: now.addingTimeInterval(-$0), after: failure) }
        #expect(policy.counting(restarts, at: now).map(\.date) == [restarts[1].date, restarts[2].date])
    }

    @Test func aProcessThatCrashedOrHungIsRestartedAndOneThatLiedIsNot() {
        #expect(PluginRestartPolicy.allowsRestart(after: .exited(status: "exit status 3")))
        #expect(PluginRestartPolicy.allowsRestart(after: .timedOut(seconds: 30)))
        #expect(!PluginRestartPolicy.allowsRestart(after: .inconsistent("sent 1 byte for a read of 2")))
        #expect(!PluginRestartPolicy.allowsRestart(after: .protocolViolation("wrote text on stdout")))
    }

    @Test func theWindowIsSaidInWords() {
        #expect(PluginRestartPolicy.duration(600) == "10 min")
        #expect(PluginRestartPolicy.duration(90) == "90 s")
    }
}
