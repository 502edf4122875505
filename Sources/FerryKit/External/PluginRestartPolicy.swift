import FerryCore
import Foundation

/// When Ferry starts a plugin's process again after it failed. A process that crashed or
/// hung says nothing about the plugin's answers, so the next call may go to a new process
/// (its disks opened again); a plugin that keeps failing is given up on after
/// `maximumRestarts` restarts within `window` seconds, so that it cannot cost a run forever.
/// A plugin whose answers broke the protocol or contradicted its claims is never restarted:
/// nothing it says can be trusted again in this run.
public struct PluginRestartPolicy: Sendable, Equatable {
    public var maximumRestarts: Int
    /// Seconds: restarts longer ago than this no longer count.
    public var window: Double

    public init(maximumRestarts: Int = 3, window: Double = 600) {
        self.maximumRestarts = max(0, maximumRestarts)
        self.window = window
    }

    /// Whether a process that failed this way may be replaced by a new one.
    static func allowsRestart(after reason: PluginError.Reason) -> Bool {
        switch reason {
        case .exited, .timedOut, .cannotStart: return true
        case .protocolViolation, .inconsistent, .remote, .stopped, .gaveUp: return false
        }
    }

    /// The restarts of `earlier` that still count at `now`: those within the window.
    func counting(_ earlier: [PluginRestart], at now: Date) -> [PluginRestart] {
        earlier.filter { now.timeIntervalSince($0.date) < window }
    }

    /// "10 min", "90 s": a window in words.
    static func duration(_ seconds: Double) -> String {
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60)) min" }
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }
}

/// One restart of a plugin's process: when, and the failure that caused it.
public struct PluginRestart: Sendable {
    public var date: Date
    public var after: PluginError
}
