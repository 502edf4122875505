/// Every EBS direct API action Ferry calls (the policy is generated from this list).
public enum EBSAction: String, CaseIterable, Sendable {
    case startSnapshot = "StartSnapshot"
    case putSnapshotBlock = "PutSnapshotBlock"
    case completeSnapshot = "CompleteSnapshot"
    case listSnapshotBlocks = "ListSnapshotBlocks"
    case getSnapshotBlock = "GetSnapshotBlock"
}
