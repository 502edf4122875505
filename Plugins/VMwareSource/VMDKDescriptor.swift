import FerryCore
import Foundation

/// The text descriptor of a VMDK: standalone (`disk.vmdk` beside `disk-flat.vmdk`) or
/// embedded in a sparse extent at sector 1.
///
/// Parsed by hand: no Swift package reads VMDK. The grammar follows VMware's "Virtual
/// Disk Format 5.0": `key = "value"` lines and extent lines
/// `ACCESS SECTORS TYPE ["FILE" [OFFSET]]`.
public struct VMDKDescriptor: Hashable, Sendable {
    public var version: Int?
    public var cid: UInt32?
    /// `ffffffff` (nil here) when the disk has no parent.
    public var parentCID: UInt32?
    public var createType: String
    public var parentFileNameHint: String?
    public var extents: [VMDKExtentLine]
    /// The disk database (`ddb.*` keys, lowercased).
    public var ddb: [String: String]

    /// The largest descriptor read; real ones are a few hundred bytes.
    public static let maxSize = 1 << 20

    public static func parse(_ text: String, file: String) throws(VMwareSourceError) -> VMDKDescriptor {
        var values: [String: String] = [:]
        var extents: [VMDKExtentLine] = []
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let firstWord = line.prefix { !$0.isWhitespace && $0 != "=" }
            if VMDKExtentLine.Access(rawValue: String(firstWord)) != nil {
                extents.append(try VMDKExtentLine.parse(line, number: number + 1, file: file))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw .invalid(file: file, reason: "descriptor line \(number + 1) is neither 'key = value' nor an extent: \(line.prefix(60))")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            values[key] = unquote(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
        }
        guard !extents.isEmpty else {
            throw .invalid(file: file, reason: "descriptor has no extent lines")
        }
        func hex(_ key: String) throws(VMwareSourceError) -> UInt32? {
            guard let value = values[key] else { return nil }
            guard let number = UInt32(value, radix: 16) else {
                throw .invalid(file: file, reason: "descriptor \(key) '\(value)' is not 8 hexadecimal digits")
            }
            return number
        }
        let parent = try hex("parentcid")
        var ddb: [String: String] = [:]
        for (key, value) in values where key.hasPrefix("ddb.") { ddb[key] = value }
        return VMDKDescriptor(
            version: values["version"].flatMap { Int($0) },
            cid: try hex("cid"),
            parentCID: parent == 0xFFFF_FFFF ? nil : parent,
            createType: values["createtype"] ?? "",
            parentFileNameHint: values["parentfilenamehint"],
            extents: extents, ddb: ddb
        )
    }

    /// The virtual size the extents add up to, in bytes: at most `DiskSize.maximum`, so
    /// that each extent's bytes, and its start on the disk, can be computed without overflow.
    public func virtualSize(file: String) throws(VMwareSourceError) -> UInt64 {
        var sectors: UInt64 = 0
        for extent in extents {
            let (sum, overflow) = sectors.addingReportingOverflow(extent.sectors)
            guard !overflow, sum <= DiskSize.maximum / 512 else {
                throw .invalid(file: file, reason: "extents add up to more than \(DiskSize.maximum / 512) sectors (\(DiskSize.maximumDescription)), the largest disk Ferry reads; the extent line of \(extent.sectors) sectors is damaged")
            }
            sectors = sum
        }
        return sectors * 512
    }

    static func unquote(_ value: String) -> String {
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { return String(value.dropFirst().dropLast()) }
        return value
    }

    /// Reads a descriptor's text from raw bytes, refusing binary data.
    static func text(_ bytes: [UInt8], file: String) throws(VMwareSourceError) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        let body = bytes[..<end]
        guard body.allSatisfy({ $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else {
            throw .invalid(file: file, reason: "not a VMDK: neither a sparse extent (no KDMV magic) nor a text descriptor")
        }
        return String(decoding: body, as: UTF8.self)
    }
}

/// One extent line: `RW 4192256 SPARSE "disk-s001.vmdk"` or `RW 2048 FLAT "disk-flat.vmdk" 0`.
public struct VMDKExtentLine: Hashable, Sendable {
    public enum Access: String, Hashable, Sendable {
        case readWrite = "RW"
        case readOnly = "RDONLY"
        case noAccess = "NOACCESS"
    }

    public enum Kind: String, Hashable, Sendable {
        case flat = "FLAT"
        case sparse = "SPARSE"
        case zero = "ZERO"
        case vmfs = "VMFS"
        case vmfsSparse = "VMFSSPARSE"
        case vmfsRDM = "VMFSRDM"
        case vmfsRaw = "VMFSRAW"
        case seSparse = "SESPARSE"
    }

    public var access: Access
    public var sectors: UInt64
    public var kind: Kind
    public var fileName: String?
    /// Sectors into the file where the extent's data starts (flat extents).
    public var offset: UInt64

    static func parse(_ line: String, number: Int, file: String) throws(VMwareSourceError) -> VMDKExtentLine {
        var tokens: [String] = []
        var current = ""
        var quoted = false
        for character in line {
            if character == "\"" {
                quoted.toggle()
                if !quoted { tokens.append(current); current = "" }
            } else if character.isWhitespace, !quoted {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        if quoted { throw .invalid(file: file, reason: "extent on line \(number) has an unterminated quoted file name") }
        if !current.isEmpty { tokens.append(current) }
        guard tokens.count >= 3, let access = Access(rawValue: tokens[0]) else {
            throw .invalid(file: file, reason: "extent on line \(number) needs ACCESS SECTORS TYPE: \(line.prefix(60))")
        }
        guard let sectors = UInt64(tokens[1]) else {
            throw .invalid(file: file, reason: "extent on line \(number) has size '\(tokens[1])', not a number of sectors")
        }
        guard let kind = Kind(rawValue: tokens[2]) else {
            throw .invalid(file: file, reason: "extent on line \(number) has unknown type '\(tokens[2])' (known: FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, VMFSRDM, VMFSRAW, SESPARSE)")
        }
        let fileName = tokens.count > 3 ? tokens[3] : nil
        if kind != .zero, fileName == nil {
            throw .invalid(file: file, reason: "\(kind.rawValue) extent on line \(number) names no file")
        }
        var offset: UInt64 = 0
        if tokens.count > 4 {
            guard let value = UInt64(tokens[4]) else {
                throw .invalid(file: file, reason: "extent on line \(number) has offset '\(tokens[4])', not a number of sectors")
            }
            offset = value
        }
        return VMDKExtentLine(access: access, sectors: sectors, kind: kind, fileName: fileName, offset: offset)
    }
}
