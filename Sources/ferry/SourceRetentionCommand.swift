import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct SourceRetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Show or set which points in time of a source server the staging store keeps.",
        discussion: """
        The newest points are kept (--newest), and older ones thinned by tiers: within each \
        tier's span of now, the newest point of every window (MGN's retention, the default: \
        10m:1h 1h:1d 1d:7d — every 10 minutes for an hour, hourly for a day, daily for a week). \
        Applied by the replication server when it commits the next point; `ferry snapshot list` \
        shows what is kept. Launch from one with the recipes' point_in_time input.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The source server's id (s-…).")
    var id: String

    @Option(help: "How many of the newest points are always kept (1 or more).")
    var newest: Int?

    @Option(name: .customLong("tier"), help: ArgumentHelp("A tier as EVERY:FOR, e.g. 10m:1h (repeat for more; replaces the tiers).", valueName: "every:for"))
    var tiers: [String] = []

    @Flag(help: "Back to MGN's tiers (10m:1h 1h:1d 1d:7d).")
    var defaultTiers = false

    @Flag(help: "No tiers: only the newest points are kept.")
    var noTiers = false

    func validate() throws {
        if let newest, newest < 1 { throw ValidationError("--newest must be 1 or more, not \(newest)") }
        if [!tiers.isEmpty, defaultTiers, noTiers].filter({ $0 }).count > 1 {
            throw ValidationError("--tier, --default-tiers and --no-tiers cannot be used together")
        }
        _ = try parsedTiers()
    }

    func parsedTiers() throws -> [SnapshotRetentionTier] {
        try tiers.map { text in
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--tier \(text): write it as EVERY:FOR, e.g. 10m:1h") }
            let every: Int, span: Int
            do {
                every = try RetentionDuration.seconds(parts[0])
                span = try RetentionDuration.seconds(parts[1])
            } catch {
                throw ValidationError("--tier \(text): \(error)")
            }
            guard span >= every else { throw ValidationError("--tier \(text): a tier's span (\(parts[1])) must be at least its window (\(parts[0]))") }
            return SnapshotRetentionTier(everySeconds: every, forSeconds: span)
        }
    }

    struct Shown: Encodable {
        var sourceServerID: String
        var newest: Int
        var tiers: [SnapshotRetentionTier]
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        var server = try workspace.sourceServers.find(id: id)
        if newest != nil || !tiers.isEmpty || defaultTiers || noTiers {
            let parsed = try parsedTiers()
            server = try workspace.sourceServers.update(id) { server in
                if let newest { server.replicationSettings.snapshotRetentionCount = newest }
                if !parsed.isEmpty { server.replicationSettings.snapshotRetentionTiers = parsed }
                if defaultTiers { server.replicationSettings.snapshotRetentionTiers = nil }
                if noTiers { server.replicationSettings.snapshotRetentionTiers = [] }
            }
        }
        let settings = server.replicationSettings
        let tiers = settings.snapshotRetentionTiers ?? SnapshotRetentionTier.defaults
        if global.output == .json {
            try Output.json(Shown(sourceServerID: server.id, newest: settings.snapshotRetentionCount, tiers: tiers))
            return
        }
        let thinned = tiers.isEmpty ? "no older point"
            : tiers.map { "one per \(RetentionDuration.text($0.everySeconds)) for \(RetentionDuration.text($0.forSeconds))" }.joined(separator: ", then ")
        print("\(server.id) keeps the newest \(settings.snapshotRetentionCount) points in time, and \(thinned)\(settings.snapshotRetentionTiers == nil ? " (MGN's default)" : "").")
    }
}
