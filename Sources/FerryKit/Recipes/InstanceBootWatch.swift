import FerryCore
import Foundation

/// While a step waits for a freshly launched instance to answer, shows every second the phase
/// its boot has reached (where the target can observe it) and the seconds since the wait began,
/// so that the minute a machine takes to boot is not a minute of silence.
struct InstanceBootWatch: Sendable {
    let context: RecipeContext
    let instanceID: String
    /// Nil when the target cannot see inside its instances: only the elapsed time is shown.
    let observer: (any BootObserving)?
    let url: String
    let started: Date

    /// Draws the status until the task is cancelled.
    func run() async {
        var reached: BootPhase?
        var announced = ""
        while !Task.isCancelled {
            let elapsed = RecipeWording.seconds(Date().timeIntervalSince(started), context.language)
            if let observer, let phase = try? await observer.bootPhase(instanceID: instanceID) {
                // A poll can miss a short phase (first boot and the end of the boot follow each
                // other within a second); each phase passed is still said, in order.
                let first = reached.map { $0.rawValue + 1 } ?? 0
                if first <= phase.rawValue {
                    for passed in BootPhase.allCases where passed.rawValue >= first && passed <= phase {
                        let label = label(passed, monitor: observer.machineMonitor)
                        context.status(RecipeStatus(phase: label, text: "\(label) — \(elapsed)"), phaseChanged: true)
                    }
                    reached = phase
                } else if let reached {
                    let label = label(reached, monitor: observer.machineMonitor)
                    context.status(RecipeStatus(phase: label, text: "\(label) — \(elapsed)"), phaseChanged: false)
                }
            } else {
                let label = context.say(en: "waiting for \(url) to answer", ja: "\(url) の応答を待っています")
                context.status(RecipeStatus(phase: label, text: "\(label) — \(elapsed)"), phaseChanged: announced != label)
                announced = label
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Throws `GuestCannotBoot` when the target sees that the instance's boot has failed for
    /// good; any other trouble observing it is not this check's to report.
    static func failIfCannotBoot(_ observer: (any BootObserving)?, instanceID: String) async throws {
        guard let observer else { return }
        do {
            _ = try await observer.bootPhase(instanceID: instanceID)
        } catch let failure as GuestCannotBoot {
            throw failure
        } catch {}
    }

    func label(_ phase: BootPhase, monitor: String) -> String {
        switch phase {
        case .machineStarted: return context.say(en: "\(monitor) started", ja: "\(monitor) を起動しました")
        case .kernel: return context.say(en: "kernel started", ja: "カーネルが起動しました")
        case .firstBoot: return context.say(en: "first boot done", ja: "初回起動が完了しました")
        case .ready: return context.say(en: "booted, waiting for HTTP 200", ja: "起動が完了しました。HTTP 200 を待っています")
        }
    }
}
