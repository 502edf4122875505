import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct JobShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One job: its type, status, servers, times and its latest log lines.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's id (mgnjob-…).")
    var id: String

    struct Shown: Encodable {
        var job: Job
        var events: [JobEvent]
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        let job = try JobText.find(id, in: workspace)
        let events = try workspace.jobs.events(jobID: job.id)
        if global.output == .json { return try Output.json(Shown(job: job, events: events)) }
        print("Job \(job.id): \(job.kind.rawValue), \(job.status.rawValue)")
        print("  servers:  \(job.sourceServerIDs.joined(separator: ", "))")
        print("  started:  \(JobText.time(job.createdAt))")
        print("  ended:    \(job.endedAt.map { "\(JobText.time($0)) (\(String(format: "%.0f", $0.timeIntervalSince(job.createdAt))) s)" } ?? "-")")
        if let failure = events.last(where: { $0.event.hasPrefix("Job failed") }) { print("  failure:  \(failure.detail.isEmpty ? failure.event : failure.detail)") }
        print("  log:      \(events.count) lines (`ferry job log \(job.id)`), the last: \(events.last.map(\.event) ?? "-")")
    }
}
