/// What a resource a recipe created is for, as recorded under "role" in its detail
/// (`RecipeResourceDetail`) and read back by the architecture diagram: the colour of a box,
/// and which arrows join it (replication from an agent to the replication server, a launch
/// from the server to a test or cutover instance).
///
/// A role of `compute.launch-instance` comes from the recipe's `role` input, so a recorded
/// role may be any text; `init?(rawValue:)` is nil for one this type does not know, and such
/// a resource is drawn as a plain workload.
public enum RecipeResourceRole: String, Sendable, CaseIterable {
    /// An instance launched for its own sake (the default of `compute.launch-instance`).
    case workload
    /// The agent replicating a source machine.
    case agent
    /// The replication server receiving the blocks.
    case replicationServer = "replication-server"
    /// A test launch's instance, image and volume.
    case test
    case testImage = "test-image"
    case testVolume = "test-volume"
    /// A cutover's instance, image and volume.
    case cutover
    case cutoverImage = "cutover-image"
    case cutoverVolume = "cutover-volume"
    /// The Machine Converter of a launch, in the staging subnet while it converts; recorded
    /// terminated, and drawn after the step that ran it.
    case converter

    /// The key of the role in a resource's detail.
    public static let detailKey = "role"

    /// An instance launched from a replicated snapshot (drawn with an arrow from the server).
    public var isLaunchedInstance: Bool { self == .test || self == .cutover }
}
