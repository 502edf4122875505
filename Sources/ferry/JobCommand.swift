import ArgumentParser
import FerryCore
import FerryKit
import Foundation

/// MGN's jobs: every launch (test, cutover) is a job with a log, kept in the workspace.
struct JobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Read the jobs of this workspace: launches for test and cutover, with a log line per stage.",
        subcommands: [JobListCommand.self, JobShowCommand.self, JobLogCommand.self]
    )
}

/// How jobs are found and their times written, for the job commands.
enum JobText {
    static func find(_ id: String, in workspace: Workspace) throws -> Job {
        guard let job = try workspace.jobs.jobs().first(where: { $0.id == id }) else {
            throw ValidationError("no job '\(id)' in this workspace (see `ferry job list`)")
        }
        return job
    }

    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
