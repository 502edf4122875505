import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct JobListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The jobs, newest first.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only the jobs of this source server (s-…).")
    var source: String?

    func run() throws {
        let workspace = try global.openWorkspace()
        let jobs = try workspace.jobs.jobs(sourceServerID: source)
        // A server's jobs outlive it; a server that is neither known nor in a job is a typo.
        if let source, jobs.isEmpty { _ = try workspace.sourceServers.find(id: source) }
        if global.output == .json { return try Output.json(jobs) }
        if jobs.isEmpty {
            print("No job\(source.map { " of \($0)" } ?? "") yet: a job is recorded for every test and cutover launch.")
            return
        }
        Output.table(["ID", "TYPE", "STATUS", "SERVERS", "STARTED", "ENDED"], jobs.map { job in
            [job.id, job.kind.rawValue, job.status.rawValue, job.sourceServerIDs.joined(separator: ","),
             JobText.time(job.createdAt), job.endedAt.map(JobText.time) ?? "-"]
        })
    }
}
