import FerryCore

/// A launch job's log: each line also goes to whoever watches.
struct JobLog {
    let jobs: JobStore
    let jobID: String
    let serverID: String
    let recorder: any MigrationRecorder

    func stage(_ stage: LaunchStage) throws {
        try write("Stage: \(stage.rawValue)", "", ja: "ステージ: \(stage.japaneseName)")
    }

    /// Writes the event to the job's log (in English, as MGN's job log is) and says it to
    /// whoever watches, in their language (`ja`, the whole line in Japanese).
    func write(_ event: String, _ detail: String, ja: String) throws {
        try jobs.log(JobEvent(jobID: jobID, sourceServerID: serverID, event: event, detail: detail))
        recorder.progress(en: detail.isEmpty ? event : "\(event): \(detail)", ja: ja)
    }
}
