import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct JobLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "A job's log, oldest first: a line per stage and event.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's id (mgnjob-…).")
    var id: String

    func run() throws {
        let workspace = try global.openWorkspace()
        let job = try JobText.find(id, in: workspace)
        let events = try workspace.jobs.events(jobID: job.id)
        if global.output == .json { return try Output.json(events) }
        for event in events {
            let server = event.sourceServerID.map { " [\($0)]" } ?? ""
            print("\(JobText.time(event.at))\(server) \(event.event)\(event.detail.isEmpty ? "" : ": \(event.detail)")")
        }
    }
}
