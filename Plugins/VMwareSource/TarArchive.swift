import FerryCore

/// The members of a tar archive (an .ova), found by reading its headers in place: nothing
/// is unpacked, a member is read as a region of the archive.
///
/// Read by hand (ustar, with pax and GNU long names): the .ova is random-access, and
/// members must be opened where they lie. A member whose path is absolute or climbs out
/// of the archive with `..` is refused.
public struct TarArchive: Sendable {
    public struct Member: Hashable, Sendable {
        public var name: String
        /// Where the member's data starts in the archive.
        public var offset: UInt64
        public var size: UInt64
    }

    public let name: String
    public let members: [Member]

    /// The largest pax or GNU long-name record read.
    static let maxExtendedHeader: UInt64 = 1 << 20

    public init(_ archive: any BlockReader, name: String) throws(VMwareSourceError) {
        self.name = name
        var members: [Member] = []
        var position: UInt64 = 0
        var pendingName: String?
        var pendingSize: UInt64?
        var sawEnd = false
        while position <= archive.size, archive.size - position >= 512 {
            let header: [UInt8]
            do { header = try archive.read(at: position, count: 512) } catch {
                throw .invalid(file: name, reason: "tar header at byte \(position) cannot be read: \(error)")
            }
            if header.allSatisfy({ $0 == 0 }) { sawEnd = true; break }
            guard Self.checksumMatches(header) else {
                throw .invalid(file: name, reason: "tar header at byte \(position) has a wrong checksum (not a tar archive, or damaged)")
            }
            guard let headerSize = Self.number(header, at: 124, length: 12) else {
                throw .invalid(file: name, reason: "tar header at byte \(position) has an unreadable size field")
            }
            let type = header[156]
            let isExtendedHeader = type == UInt8(ascii: "x") || type == UInt8(ascii: "L")
            // A pax size applies to the member after the extended header, not to another one.
            let size = isExtendedHeader ? headerSize : pendingSize ?? headerSize
            let dataStart = position + 512
            guard size <= archive.size - dataStart else {
                throw .invalid(file: name, reason: "tar member at byte \(position) claims \(size) bytes, past the end of the archive (truncated?)")
            }
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "L"):
                guard headerSize <= Self.maxExtendedHeader else {
                    throw .invalid(file: name, reason: "tar extended header at byte \(position) is \(headerSize) bytes, too large")
                }
                let body: [UInt8]
                do { body = try archive.read(at: dataStart, count: Int(headerSize)) } catch {
                    throw .invalid(file: name, reason: "tar extended header at byte \(position) cannot be read: \(error)")
                }
                if type == UInt8(ascii: "L") {
                    pendingName = String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
                } else {
                    let records = try Self.paxRecords(body, header: position, archive: name)
                    if let path = records["path"] { pendingName = path }
                    if let value = records["size"] {
                        guard let number = UInt64(value) else { throw .invalid(file: name, reason: "tar pax size '\(value)' is not a number") }
                        pendingSize = number
                    }
                }
                position = Self.nextHeader(after: dataStart, size: headerSize)
                continue
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                let prefix = Self.string(header, at: 345, length: 155)
                let plain = Self.string(header, at: 0, length: 100)
                let memberName = pendingName ?? (prefix.isEmpty ? plain : prefix + "/" + plain)
                try Self.checkPath(memberName, archive: name)
                members.append(Member(name: Self.normalized(memberName), offset: dataStart, size: size))
            default:
                // Directories, links, global pax headers: nothing to read.
                if pendingName != nil || type == UInt8(ascii: "5") || type == UInt8(ascii: "1") || type == UInt8(ascii: "2") {
                    try Self.checkPath(pendingName ?? Self.string(header, at: 0, length: 100), archive: name)
                }
            }
            pendingName = nil
            pendingSize = nil
            position = Self.nextHeader(after: dataStart, size: size)
        }
        guard sawEnd || position >= archive.size else {
            throw .invalid(file: name, reason: "tar archive is truncated at byte \(position)")
        }
        guard !members.isEmpty || sawEnd else { throw .invalid(file: name, reason: "not a tar archive: no members") }
        self.members = members
    }

    public func member(named wanted: String) -> Member? {
        let target = Self.normalized(wanted)
        return members.first { $0.name == target }
    }

    /// Where the header after a member of `size` bytes at `dataStart` is: past the data,
    /// padded to 512 bytes. UInt64.max when that is past any archive, so that the walk ends.
    static func nextHeader(after dataStart: UInt64, size: UInt64) -> UInt64 {
        let (padded, paddingOverflow) = DiskSize.blocks(size, of: 512).multipliedReportingOverflow(by: 512)
        let (next, overflow) = dataStart.addingReportingOverflow(padded)
        return paddingOverflow || overflow ? .max : next
    }

    static func normalized(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    static func checkPath(_ path: String, archive: String) throws(VMwareSourceError) {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        if path.hasPrefix("/") || components.contains("..") || path.isEmpty {
            throw .invalid(file: archive, reason: "member '\(path.prefix(200))' escapes the archive (absolute path or '..')")
        }
    }

    static func checksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = number(header, at: 148, length: 8) else { return false }
        var sum: UInt64 = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : UInt64(byte) }
        return sum == stored
    }

    /// An octal field, or a GNU base-256 one (high bit set) for sizes of 8 GiB and more.
    static func number(_ header: [UInt8], at offset: Int, length: Int) -> UInt64? {
        let field = header[offset..<offset + length]
        if let first = field.first, first & 0x80 != 0 {
            var value: UInt64 = UInt64(first & 0x7F)
            for byte in field.dropFirst() {
                guard value >> 56 == 0 else { return nil }
                value = value << 8 | UInt64(byte)
            }
            return value
        }
        let text = String(decoding: field.drop { $0 == 32 }.prefix { $0 != 0 && $0 != 32 }, as: UTF8.self)
        if text.isEmpty { return 0 }
        return UInt64(text, radix: 8)
    }

    static func string(_ header: [UInt8], at offset: Int, length: Int) -> String {
        String(decoding: header[offset..<offset + length].prefix { $0 != 0 }, as: UTF8.self)
    }

    /// pax records: "LENGTH key=value\n" each. `header` (the extended header's byte in the
    /// archive) and `archive` name the place in errors.
    static func paxRecords(_ body: [UInt8], header: UInt64, archive: String) throws(VMwareSourceError) -> [String: String] {
        var records: [String: String] = [:]
        var index = 0
        while index < body.count {
            guard let space = body[index...].firstIndex(of: 32),
                  let length = Int(String(decoding: body[index..<space], as: UTF8.self)), length > 0 else { break }
            // The length is the record's own claim: compared with what is left, never added
            // to the index before it is known to fit (a length of Int.max must not overflow).
            guard length <= body.count - index, space + 1 <= index + length - 1 else {
                throw .invalid(file: archive, reason: "tar pax record at byte \(index) of the extended header at byte \(header) claims \(length) bytes, but the header has \(body.count - index) left (damaged archive)")
            }
            let record = String(decoding: body[(space + 1)..<(index + length - 1)], as: UTF8.self)
            if let equals = record.firstIndex(of: "=") {
                records[String(record[..<equals])] = String(record[record.index(after: equals)...])
            }
            index += length
        }
        return records
    }
}
