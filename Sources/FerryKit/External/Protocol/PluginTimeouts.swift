import FerryCore
import Foundation

/// How long Ferry waits for a plugin's answers.
public struct PluginTimeouts: Sendable, Equatable {
    /// For `describe`.
    public var describe: Double
    /// For source methods: reads are small and local.
    public var call: Double
    /// For target methods: a cloud may take minutes to commit a snapshot or launch.
    public var targetCall: Double

    /// The longest wait Ferry accepts, a day, so that "no timeout" still ends.
    public static let maximum: Double = 86_400

    public init(describe: Double = 10, call: Double = 30, targetCall: Double = 600) {
        self.describe = describe
        self.call = call
        self.targetCall = targetCall
    }

    /// The defaults, or `FERRY_PLUGIN_TIMEOUT` seconds for all calls when it is set (at most
    /// a day; `inf` means a day).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> PluginTimeouts {
        if let text = environment["FERRY_PLUGIN_TIMEOUT"], let seconds = Double(text), seconds > 0 {
            let clamped = min(seconds, maximum)
            return PluginTimeouts(describe: clamped, call: clamped, targetCall: clamped)
        }
        return PluginTimeouts()
    }
}

/// A point in time that calls must finish by.
struct Deadline {
    private let end: UInt64

    init(seconds: Double) {
        let clamped = seconds.isNaN ? 0 : min(max(seconds, 0), PluginTimeouts.maximum)
        end = DispatchTime.now().uptimeNanoseconds + UInt64(clamped * 1e9)
    }

    var remainingMilliseconds: Int {
        let now = DispatchTime.now().uptimeNanoseconds
        return now >= end ? 0 : Int((end - now + 999_999) / 1_000_000)
    }
}
