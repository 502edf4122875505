/// The state of a source server's data replication, as MGN names it.
public enum DataReplicationState: String, Codable, Hashable, Sendable, CaseIterable {
    case initiating = "INITIATING"
    case initialSync = "INITIAL_SYNC"
    case continuous = "CONTINUOUS"
    case backlog = "BACKLOG"
    case rescan = "RESCAN"
    case paused = "PAUSED"
    case stalled = "STALLED"
    case stopped = "STOPPED"
    case disconnected = "DISCONNECTED"
}

/// What happens to data replication: reported by the replication server or asked by a user.
public enum DataReplicationEvent: String, Codable, Hashable, Sendable, CaseIterable {
    /// An agent registered and replication is being set up.
    case start
    case beginInitialSync = "begin-initial-sync"
    /// Every block was sent once and a first consistent snapshot committed.
    case completeInitialSync = "complete-initial-sync"
    /// Changes arrive faster than they are sent.
    case fallBehind = "fall-behind"
    case catchUp = "catch-up"
    /// The agent lost track of changes and re-reads every block.
    case beginRescan = "begin-rescan"
    case completeRescan = "complete-rescan"
    case pause
    case resume
    /// The agent went silent for too long.
    case stall
    case stop
    case disconnect
}

public enum DataReplicationTransitions {
    private static let active: [DataReplicationState] = [.initiating, .initialSync, .continuous, .backlog, .rescan]

    public static let table: [DataReplicationEvent: [DataReplicationState: DataReplicationState]] = [
        .start: [.stopped: .initiating, .disconnected: .initiating, .stalled: .initiating],
        .beginInitialSync: [.initiating: .initialSync],
        .completeInitialSync: [.initialSync: .continuous],
        .fallBehind: [.continuous: .backlog],
        .catchUp: [.backlog: .continuous],
        .beginRescan: [.continuous: .rescan, .backlog: .rescan, .stalled: .rescan, .paused: .rescan],
        .completeRescan: [.rescan: .continuous],
        .pause: Dictionary(uniqueKeysWithValues: active.map { ($0, .paused) }),
        // Changes made while paused were not tracked: resuming rescans the disks.
        .resume: [.paused: .rescan],
        .stall: Dictionary(uniqueKeysWithValues: active.map { ($0, .stalled) }),
        .stop: Dictionary(uniqueKeysWithValues: (active + [.paused, .stalled, .disconnected]).map { ($0, .stopped) }),
        .disconnect: Dictionary(uniqueKeysWithValues: (active + [.paused, .stalled]).map { ($0, .disconnected) }),
    ]

    public static func target(of event: DataReplicationEvent, from state: DataReplicationState) -> DataReplicationState? {
        table[event]?[state]
    }

    public static func allowedEvents(in state: DataReplicationState) -> [DataReplicationEvent] {
        DataReplicationEvent.allCases.filter { table[$0]?[state] != nil }
    }

    public static func apply(_ event: DataReplicationEvent, to state: DataReplicationState, server: String) throws(DataReplicationTransitionError) -> DataReplicationState {
        guard let next = target(of: event, from: state) else {
            throw DataReplicationTransitionError(server: server, state: state, event: event, allowed: allowedEvents(in: state))
        }
        return next
    }
}

public struct DataReplicationTransitionError: Error, Hashable, Sendable, CustomStringConvertible {
    public let server: String
    public let state: DataReplicationState
    public let event: DataReplicationEvent
    public let allowed: [DataReplicationEvent]

    public var description: String {
        let choices = allowed.isEmpty ? "none" : allowed.map(\.rawValue).joined(separator: ", ")
        return "source server \(server) replication is \(state.rawValue): '\(event.rawValue)' is not allowed there (allowed: \(choices))"
    }
}
