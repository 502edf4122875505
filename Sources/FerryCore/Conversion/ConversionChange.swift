/// One change a conversion made to a guest's system, as the report lists it.
public struct ConversionChange: Codable, Hashable, Sendable {
    /// The file changed, as a path inside the guest.
    public var file: String
    /// What the relevant part said before (a line, a setting, a module list), and after.
    public var before: String
    public var after: String
    /// Why the target needs it.
    public var why: String

    public init(file: String, before: String, after: String, why: String) {
        self.file = file
        self.before = before
        self.after = after
        self.why = why
    }
}
