import FerryKit
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one line a terminal redraws in place while a step waits (a boot's phase, a bar of the
/// replication), with the seconds elapsed. Where the output is not a terminal (a log, a pipe, a
/// test) nothing can be redrawn: a plain line is written when the phase changes, and for a bar
/// at most every 10 s, so that a log shows the wait without a line per second.
final class RecipeLiveLine: Sendable {
    let interactive: Bool
    private let state = Mutex(State())

    private struct State {
        var drawn = false
        var lastPhase = ""
        var lastLine = Date.distantPast
    }

    init(interactive: Bool = isatty(STDOUT_FILENO) == 1) {
        self.interactive = interactive
    }

    func show(_ status: RecipeStatus) {
        let bar = status.fraction.map { ProgressBar.draw($0) + "  " } ?? ""
        state.withLock { state in
            if interactive {
                print("\r\u{1B}[K   · \(bar)\(status.text)", terminator: "")
                state.drawn = true
            } else if status.phase != state.lastPhase || (status.fraction != nil && Date().timeIntervalSince(state.lastLine) >= 10) {
                print("   · \(bar)\(status.text)")
                state.lastPhase = status.phase
                state.lastLine = Date()
            }
        }
        Output.flush()
    }

    /// Ends the live line before any other output: it stays on screen as the wait's last
    /// state, and the next wait starts a line of its own.
    func settle() {
        state.withLock { state in
            if state.drawn { print("") }
            state = State()
        }
    }
}
