import FerryCore

/// A launch job's log: each line also goes to whoever watches.
struct JobLog {
    let jobs: JobStore
    let jobID: String
    let serverID: String
    let recorder: any MigrationRecorder

    func stage(_ stage: LaunchStage) throws {
        try write("Stage: \(stage.rawValue)", "")
    }

    func write(_ event: String, _ detail: String) throws {
        try jobs.log(JobEvent(jobID: jobID, sourceServerID: serverID, event: event, detail: detail))
        recorder.progress(detail.isEmpty ? event : "\(event): \(detail)")
    }
}
