/// Where a source server stands in its migration. Names follow AWS MGN so that users
/// recognise them.
public enum LifecycleState: String, Codable, Hashable, Sendable, CaseIterable {
    case notReady = "NOT_READY"
    case readyForTest = "READY_FOR_TEST"
    case testing = "TESTING"
    case readyForCutover = "READY_FOR_CUTOVER"
    case cuttingOver = "CUTTING_OVER"
    case cutover = "CUTOVER"
    case disconnected = "DISCONNECTED"
    case archived = "ARCHIVED"
}

/// What a user or the replication engine does to a source server's lifecycle.
public enum LifecycleAction: String, Codable, Hashable, Sendable, CaseIterable {
    /// Initial sync finished: the server can be test-launched.
    case completeInitialSync = "complete-initial-sync"
    case launchTest = "launch-test"
    case markReadyForCutover = "mark-ready-for-cutover"
    case revertToReadyForTest = "revert-to-ready-for-test"
    case launchCutover = "launch-cutover"
    case revertToReadyForCutover = "revert-to-ready-for-cutover"
    case finalizeCutover = "finalize-cutover"
    case disconnect = "disconnect"
    /// The agent was installed again on a disconnected server.
    case reconnect = "reconnect"
    case archive = "archive"
    case unarchive = "unarchive"
}
