import FerryCore
/// Little- and big-endian field access for on-disk structures read into byte arrays.
/// Every accessor is bounds-checked and returns 0 (or an empty value) past the end, so a
/// parser fed a short or damaged buffer never traps.
extension Array where Element == UInt8 {
    @inlinable
    func le<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        let width = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - width else { return 0 }
        var value: T = 0
        for index in 0..<width { value |= T(self[offset + index]) << (8 * index) }
        return value
    }

    @inlinable
    func be<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        let width = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - width else { return 0 }
        var value: T = 0
        for index in 0..<width { value = (value << 8) | T(self[offset + index]) }
        return value
    }

    func bytes(at offset: Int, count length: Int) -> [UInt8] {
        guard offset >= 0, length >= 0, offset <= count - length else { return [] }
        return Array(self[offset..<offset + length])
    }

    func matches(_ ascii: String, at offset: Int) -> Bool {
        let expected = Array(ascii.utf8)
        return bytes(at: offset, count: expected.count) == expected
    }

    /// A label field: trailing NULs and spaces removed; nil when nothing is left.
    func label(at offset: Int, count length: Int) -> String? {
        var field = bytes(at: offset, count: length)
        if let end = field.firstIndex(of: 0) { field = Array(field[..<end]) }
        let text = String(decoding: field, as: UTF8.self).trimmingTrailingSpaces()
        return text.isEmpty ? nil : text
    }

    /// A 16-byte UUID in the big-endian byte order file systems store it in.
    func uuid(at offset: Int) -> String? {
        let raw = bytes(at: offset, count: 16)
        guard raw.count == 16, raw.contains(where: { $0 != 0 }) else { return nil }
        let hex = raw.map { Self.hexByte($0) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    /// A GUID as GPT stores it: the first three fields little-endian.
    func guid(at offset: Int) -> String {
        let raw = bytes(at: offset, count: 16)
        guard raw.count == 16 else { return "" }
        let ordered = [raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]] + raw[8..<16]
        let hex = ordered.map { Self.hexByte($0).uppercased() }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    static func hexByte(_ byte: UInt8) -> String {
        let digits = Self("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var scalars = Substring(self)
        while let last = scalars.last, last == " " || last == "\0" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

/// CRC-32 (IEEE 802.3, reflected), as GPT headers and partition arrays use it.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            bytes.withUnsafeBufferPointer { bytes in
                for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
