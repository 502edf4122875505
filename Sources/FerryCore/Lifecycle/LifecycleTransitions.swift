/// The table of allowed lifecycle transitions. Anything not in it is refused with a
/// `LifecycleTransitionError`; nothing changes state silently.
public enum LifecycleTransitions {
    /// action → (from states → to state)
    public static let table: [LifecycleAction: [LifecycleState: LifecycleState]] = [
        .completeInitialSync: [.notReady: .readyForTest],
        // A test can be launched again while testing or after marking ready for cutover.
        .launchTest: [.readyForTest: .testing, .testing: .testing, .readyForCutover: .testing],
        .markReadyForCutover: [.testing: .readyForCutover],
        .revertToReadyForTest: [.testing: .readyForTest, .readyForCutover: .readyForTest],
        .launchCutover: [.readyForCutover: .cuttingOver],
        .revertToReadyForCutover: [.cuttingOver: .readyForCutover],
        .finalizeCutover: [.cuttingOver: .cutover],
        .disconnect: [
            .notReady: .disconnected, .readyForTest: .disconnected, .testing: .disconnected,
            .readyForCutover: .disconnected, .cuttingOver: .disconnected, .cutover: .disconnected,
        ],
        .reconnect: [.disconnected: .notReady],
        .archive: [.cutover: .archived, .disconnected: .archived],
        .unarchive: [.archived: .disconnected],
    ]

    /// The state `action` leads to from `state`, or nil when the action is not allowed there.
    public static func target(of action: LifecycleAction, from state: LifecycleState) -> LifecycleState? {
        table[action]?[state]
    }

    /// The actions allowed in `state`, in a stable order.
    public static func allowedActions(in state: LifecycleState) -> [LifecycleAction] {
        LifecycleAction.allCases.filter { table[$0]?[state] != nil }
    }

    public static func apply(_ action: LifecycleAction, to state: LifecycleState, server: String) throws(LifecycleTransitionError) -> LifecycleState {
        guard let next = target(of: action, from: state) else {
            throw LifecycleTransitionError(server: server, state: state, action: action, allowed: allowedActions(in: state))
        }
        return next
    }
}

/// An action was asked of a source server in a state that does not allow it.
public struct LifecycleTransitionError: Error, Hashable, Sendable, CustomStringConvertible {
    public let server: String
    public let state: LifecycleState
    public let action: LifecycleAction
    public let allowed: [LifecycleAction]

    public var description: String {
        let choices = allowed.isEmpty ? "none" : allowed.map(\.rawValue).joined(separator: ", ")
        return "source server \(server) is \(state.rawValue): '\(action.rawValue)' is not allowed there (allowed: \(choices))"
    }
}
