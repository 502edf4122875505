import Foundation

/// What a conversion did to a disk: every change (file, before → after, why), the tool that
/// regenerated the initramfs, how long it took, and the inspection it started from. An empty
/// `changes` means the disk already boots on the platform as it is (a second conversion).
public struct ConversionReport: Codable, Hashable, Sendable {
    public var platform: TargetPlatform
    public var changes: [ConversionChange]
    /// The guest's own command that rebuilt the initramfs (`update-initramfs -u -k all`,
    /// `dracut --force …`), nil when nothing needed rebuilding.
    public var initramfsTool: String?
    /// What the converter could not do the preferred way and did otherwise (or not at all).
    public var notes: [String]
    /// From the converter's start to its end, the appliance's boot included.
    public var seconds: Double
    /// The disk as it was before the conversion.
    public var inspection: GuestInspection

    public init(platform: TargetPlatform, changes: [ConversionChange], initramfsTool: String?, notes: [String], seconds: Double, inspection: GuestInspection) {
        self.platform = platform
        self.changes = changes
        self.initramfsTool = initramfsTool
        self.notes = notes
        self.seconds = seconds
        self.inspection = inspection
    }
}
