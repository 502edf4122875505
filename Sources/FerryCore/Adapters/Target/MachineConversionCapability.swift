/// Converts an imported volume on the target itself, the way AWS MGN's Machine Converter does:
/// a converter instance boots in the staging subnet with the volume attached, changes the
/// system on it so that it boots on the target's instances, and is terminated. A target
/// without it has its disks converted on this machine before they are uploaded.
public protocol MachineConversionCapability: Adapter {
    /// Converts `request.volumeID` in place for `request.platform`. The volume is a copy of the
    /// staged disk; when this throws it may hold some changes and must not be launched.
    func convertVolume(_ request: VolumeConversionRequest, log: @escaping @Sendable (String) -> Void) async throws -> VolumeConversion
}

public struct VolumeConversionRequest: Sendable {
    /// The imported root volume to convert.
    public var volumeID: String
    public var platform: TargetPlatform
    /// The converter instance's name: "Machine Converter <server>".
    public var converterName: String
    /// Where the converter instance runs (the staging subnet), or the target's default.
    public var subnetID: String?

    public init(volumeID: String, platform: TargetPlatform, converterName: String, subnetID: String?) {
        self.volumeID = volumeID
        self.platform = platform
        self.converterName = converterName
        self.subnetID = subnetID
    }
}

/// What a converter instance did: its report, and the instance (terminated by now).
public struct VolumeConversion: Sendable {
    public var report: ConversionReport
    public var converterInstanceID: String

    public init(report: ConversionReport, converterInstanceID: String) {
        self.report = report
        self.converterInstanceID = converterInstanceID
    }
}
