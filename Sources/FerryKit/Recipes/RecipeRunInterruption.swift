import FerryCore
import Foundation

/// A run the database says is running (or destroying) although no process works on it any
/// more: its process was killed, or the machine went down, before it could record the end.
/// The run's lock tells the truth, since the kernel releases an `flock` however its holder
/// exits: when nobody holds it, nobody is behind the run.
public struct RecipeRunInterruption: Codable, Hashable, Sendable {
    /// The process that last held the run, as its lock file names it.
    public var pid: Int32?
    /// The command that continues the run.
    public var resume: String
    /// "interrupted (pid gone)", what status shows in place of the recorded status.
    public var summary: String

    init(pid: Int32?, resume: String) {
        self.pid = pid
        self.resume = resume
        summary = "interrupted (pid\(pid.map { " \($0)" } ?? "") gone)"
    }

    /// Whether `run` is interrupted; nil when it has ended or a live process holds it.
    public static func of(_ run: RecipeRun, in workspace: Workspace) -> RecipeRunInterruption? {
        guard run.status == .running || run.status == .destroying else { return nil }
        guard WorkspaceLock.liveHolder(workspace: workspace, name: run.id) == nil else { return nil }
        // A destroy that was cut short is finished by destroying again, not by resuming.
        let command = run.status == .destroying ? "destroy" : "resume"
        return RecipeRunInterruption(pid: WorkspaceLock.recordedHolder(workspace: workspace, name: run.id).pid,
                                     resume: "ferry recipe \(command) \(run.id)")
    }
}

extension RecipeRun {
    /// This run, with `interruption` set when no process is behind it any more.
    public func noticingInterruption(in workspace: Workspace) -> RecipeRun {
        var run = self
        run.interruption = RecipeRunInterruption.of(self, in: workspace)
        return run
    }
}
