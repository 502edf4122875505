import FerryCore

/// Why the Machine Converter did not inspect or convert a disk.
public enum ConverterError: Error, CustomStringConvertible {
    /// The disk is not something the converter can convert; nothing was changed.
    case notConvertible(reasons: [String], inspection: GuestInspection?)
    /// The conversion stopped part way: the disk may hold some of the changes (discard it).
    case conversionFailed(reason: String, changes: [ConversionChange], consoleTail: String)
    /// The appliance did not finish in time; QEMU was killed.
    case timeout(seconds: Int, consoleTail: String)
    /// The appliance ended without saying it was done (a kernel panic, QEMU failing to start).
    case applianceFailed(reason: String, consoleTail: String)
    /// Only raw disk files can be attached; the caller converts other formats first.
    case notARawDisk(path: String, reason: String)

    public var description: String {
        switch self {
        case .notConvertible(let reasons, _):
            "the disk cannot be converted: \(reasons.joined(separator: "; "))"
        case .conversionFailed(let reason, let changes, let tail):
            "the conversion failed after \(changes.count) changes (discard this copy of the disk): \(reason)\nlast lines of the converter's console:\n\(tail)"
        case .timeout(let seconds, let tail):
            "the converter appliance did not finish within \(seconds) s and was stopped; last lines of its console:\n\(tail)"
        case .applianceFailed(let reason, let tail):
            "the converter appliance failed: \(reason); last lines of its console:\n\(tail)"
        case .notARawDisk(let path, let reason):
            "\(path) cannot be attached to the converter: \(reason)"
        }
    }
}
