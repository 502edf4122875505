/// The live state of a long wait inside a step (a boot's phase and how long it has lasted, a
/// replication's bytes with rate and ETA), as opposed to a progress line, which is said once.
/// A terminal redraws it in place; elsewhere a line is written when the phase changes.
public struct RecipeStatus: Sendable, Hashable {
    /// What the wait is at ("QEMU started", "kernel"): a new phase is worth a line of its own
    /// where the status cannot be redrawn.
    public var phase: String
    /// The whole line, in the run's language, with the elapsed seconds.
    public var text: String
    /// How much is done, 0...1, when the wait has a known end (drawn as a bar).
    public var fraction: Double?

    public init(phase: String, text: String, fraction: Double? = nil) {
        self.phase = phase
        self.text = text
        self.fraction = fraction
    }
}

/// Whoever draws the live status of a run (the CLI's console). The runner's events carry
/// lines only, so the display is handed to the actions beside them, for the task that runs
/// the recipe (`RecipeStatusDisplays.$current.withValue(console) { … }`).
public protocol RecipeStatusDisplay: Sendable {
    func show(_ status: RecipeStatus, step: String)
}

public enum RecipeStatusDisplays {
    @TaskLocal public static var current: (any RecipeStatusDisplay)?
}
