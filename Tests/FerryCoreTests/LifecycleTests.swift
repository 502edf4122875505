import FerryCore
import FerryTestSupport
import Testing

@Suite("Lifecycle of a source server")
struct LifecycleTests {
    /// Every allowed transition, written out independently of the table in the code.
    static let allowed: [(LifecycleState, LifecycleAction, LifecycleState)] = [
        (.notReady, .completeInitialSync, .readyForTest),
        (.readyForTest, .launchTest, .testing),
        (.testing, .launchTest, .testing),
        (.readyForCutover, .launchTest, .testing),
        (.testing, .markReadyForCutover, .readyForCutover),
        (.testing, .revertToReadyForTest, .readyForTest),
        (.readyForCutover, .revertToReadyForTest, .readyForTest),
        (.readyForCutover, .launchCutover, .cuttingOver),
        (.cuttingOver, .revertToReadyForCutover, .readyForCutover),
        (.cuttingOver, .finalizeCutover, .cutover),
        (.notReady, .disconnect, .disconnected),
        (.readyForTest, .disconnect, .disconnected),
        (.testing, .disconnect, .disconnected),
        (.readyForCutover, .disconnect, .disconnected),
        (.cuttingOver, .disconnect, .disconnected),
        (.cutover, .disconnect, .disconnected),
        (.disconnected, .reconnect, .notReady),
        (.cutover, .archive, .archived),
        (.disconnected, .archive, .archived),
        (.archived, .unarchive, .disconnected),
    ]

    @Test(arguments: allowed.indices)
    func allowedTransition(_ index: Int) throws {
        let (from, action, to) = Self.allowed[index]
        #expect(try LifecycleTransitions.apply(action, to: from, server: "s-1") == to)
    }

    @Test func theTableAllowsNothingElse() {
        var count = 0
        for action in LifecycleAction.allCases {
            for state in LifecycleState.allCases {
                guard let to = LifecycleTransitions.target(of: action, from: state) else { continue }
                count += 1
                #expect(Self.allowed.contains { $0 == (state, action, to) }, "unexpected \(state) --\(action)--> \(to)")
            }
        }
        #expect(count == Self.allowed.count)
    }

    @Test(arguments: [
        (LifecycleState.notReady, LifecycleAction.launchCutover),
        (.notReady, .launchTest),
        (.readyForTest, .launchCutover),
        (.testing, .finalizeCutover),
        (.cutover, .launchTest),
        (.archived, .launchCutover),
        (.archived, .disconnect),
        (.readyForTest, .archive),
    ])
    func illegalTransitionIsATypedErrorNamingServerStateAndAction(state: LifecycleState, action: LifecycleAction) {
        let error = #expect(throws: LifecycleTransitionError.self) {
            try LifecycleTransitions.apply(action, to: state, server: "s-0123456789abcdef0")
        }
        #expect(error?.server == "s-0123456789abcdef0")
        #expect(error?.state == state)
        #expect(error?.action == action)
        #expect(error?.description.contains("s-0123456789abcdef0 is \(state.rawValue)") == true)
        #expect(error?.description.contains("'\(action.rawValue)' is not allowed") == true)
    }

    @Test func aWholeMigrationWalksTheHappyPath() throws {
        var state = LifecycleState.notReady
        for action in [LifecycleAction.completeInitialSync, .launchTest, .markReadyForCutover, .launchCutover, .finalizeCutover, .archive] {
            state = try LifecycleTransitions.apply(action, to: state, server: "s-1")
        }
        #expect(state == .archived)
    }
}

@Suite("Data replication states")
struct DataReplicationTests {
    @Test func initialSyncThenContinuousThenBacklogAndBack() throws {
        var state = DataReplicationState.stopped
        for event in [DataReplicationEvent.start, .beginInitialSync, .completeInitialSync, .fallBehind, .catchUp] {
            state = try DataReplicationTransitions.apply(event, to: state, server: "s-1")
        }
        #expect(state == .continuous)
    }

    @Test func theFirstPointIsCreatingSnapshotAndLaggingComesBackAtTheNextPoint() throws {
        #expect(DataReplicationTransitions.target(of: .beginSnapshot, from: .initialSync) == .creatingSnapshot)
        #expect(DataReplicationTransitions.target(of: .completeInitialSync, from: .creatingSnapshot) == .continuous)
        #expect(DataReplicationTransitions.target(of: .beginSnapshot, from: .rescan) == .creatingSnapshot)
        #expect(DataReplicationTransitions.target(of: .completeRescan, from: .creatingSnapshot) == .continuous)
        // A continuous point is no CREATING_SNAPSHOT: it is closed every interval.
        #expect(DataReplicationTransitions.target(of: .beginSnapshot, from: .continuous) == nil)
        #expect(DataReplicationTransitions.target(of: .fallBehindInTime, from: .continuous) == .lagging)
        #expect(DataReplicationTransitions.target(of: .fallBehind, from: .lagging) == .backlog)
        #expect(DataReplicationTransitions.target(of: .catchUp, from: .lagging) == .continuous)
        // A backlog is the bigger trouble: lag does not hide it.
        #expect(DataReplicationTransitions.target(of: .fallBehindInTime, from: .backlog) == nil)
        #expect(DataReplicationTransitions.target(of: .stall, from: .lagging) == .stalled)
    }

    @Test func aSilentAgentStallsAndRecoversThroughARescan() throws {
        #expect(DataReplicationTransitions.target(of: .stall, from: .continuous) == .stalled)
        #expect(DataReplicationTransitions.target(of: .beginRescan, from: .stalled) == .rescan)
        #expect(DataReplicationTransitions.target(of: .completeRescan, from: .rescan) == .continuous)
    }

    @Test func resumingAPauseRescans() {
        #expect(DataReplicationTransitions.target(of: .pause, from: .initialSync) == .paused)
        #expect(DataReplicationTransitions.target(of: .resume, from: .paused) == .rescan)
    }

    @Test func everyStateCanBeStoppedExceptStopped() {
        for state in DataReplicationState.allCases {
            #expect((DataReplicationTransitions.target(of: .stop, from: state) == .stopped) == (state != .stopped))
        }
    }

    @Test(arguments: [
        (DataReplicationState.stopped, DataReplicationEvent.completeInitialSync),
        (.initiating, .fallBehind),
        (.continuous, .beginInitialSync),
        (.paused, .catchUp),
    ])
    func illegalEventIsATypedError(state: DataReplicationState, event: DataReplicationEvent) {
        let error = #expect(throws: DataReplicationTransitionError.self) {
            try DataReplicationTransitions.apply(event, to: state, server: "s-2")
        }
        #expect(error?.state == state)
        #expect(error?.event == event)
        #expect(error?.description.contains("s-2") == true)
    }
}
