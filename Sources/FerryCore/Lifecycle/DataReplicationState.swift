/// The state of a source server's data replication, as MGN names it.
public enum DataReplicationState: String, Codable, Hashable, Sendable, CaseIterable {
    case initiating = "INITIATING"
    case initialSync = "INITIAL_SYNC"
    case continuous = "CONTINUOUS"
    case backlog = "BACKLOG"
    /// The last blocks of an initial sync or a rescan are in; the first point is being committed.
    case creatingSnapshot = "CREATING_SNAPSHOT"
    /// Sent, but the oldest write not yet in a committed point is older than
    /// `DataReplicationThresholds.laggingSeconds`: points are not being closed.
    case lagging = "LAGGING"
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
    /// The blocks of an initial sync or a rescan are all in: its point is being committed.
    case beginSnapshot = "begin-snapshot"
    /// Changes arrive faster than they are sent.
    case fallBehind = "fall-behind"
    /// The oldest write not in a point grew older than the lagging threshold.
    case fallBehindInTime = "lag"
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

/// When the server calls replication BACKLOG or LAGGING, and why these numbers.
public enum DataReplicationThresholds {
    /// BACKLOG: this much written on the source and not yet acknowledged. Below it the
    /// backlog is one round of sending (seconds on any link the workshop uses); above it, the
    /// writes outrun the link for a while and a launch now would wait for them.
    public static let backlogBytes: UInt64 = 64 << 20
    /// LAGGING: the oldest write not yet in a committed point is older than this. A tracked
    /// agent closes a point every interval that had writes (10 s by default, a freeze of well
    /// under a second included), so six intervals without one mean points are not closing: a
    /// freeze that keeps failing, writes that never converge, a link too slow for the writes.
    /// A test launch then would start from a point more than a minute old.
    public static let laggingSeconds: Double = 60
}

public enum DataReplicationTransitions {
    private static let active: [DataReplicationState] = [.initiating, .initialSync, .creatingSnapshot, .continuous, .backlog, .lagging, .rescan]

    public static let table: [DataReplicationEvent: [DataReplicationState: DataReplicationState]] = [
        .start: [.stopped: .initiating, .disconnected: .initiating, .stalled: .initiating],
        .beginInitialSync: [.initiating: .initialSync],
        .beginSnapshot: [.initialSync: .creatingSnapshot, .rescan: .creatingSnapshot],
        .completeInitialSync: [.initialSync: .continuous, .creatingSnapshot: .continuous],
        .fallBehind: [.continuous: .backlog, .lagging: .backlog],
        .fallBehindInTime: [.continuous: .lagging],
        .catchUp: [.backlog: .continuous, .lagging: .continuous],
        .beginRescan: [.continuous: .rescan, .backlog: .rescan, .lagging: .rescan, .stalled: .rescan, .paused: .rescan, .creatingSnapshot: .rescan],
        .completeRescan: [.rescan: .continuous, .creatingSnapshot: .continuous],
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
