import FerryCore
import Foundation

/// Writes a ustar archive (an .ova) member by member, the files' bytes streamed from their
/// readers. By hand, as `TarArchive` reads: an .ova holds a few members, and the OVF
/// specification wants the descriptor first, which this writer keeps by writing in order.
public struct TarWriter {
    private let output: OutputFile
    private var position: UInt64 = 0

    public init(creating path: String) throws {
        output = try OutputFile(creating: path)
    }

    /// Appends a member named `name` (at most 100 bytes: ustar's plain name field) holding `reader`'s bytes.
    public mutating func append(name: String, contents reader: any BlockReader) throws {
        try output.write(try Self.header(name: name, size: reader.size), at: position)
        position += 512
        var offset: UInt64 = 0
        let chunk: UInt64 = 1 << 20
        while offset < reader.size {
            let count = Int(min(chunk, reader.size - offset))
            try output.write(try reader.read(at: offset, count: count), at: position + offset)
            offset += UInt64(count)
        }
        position += (reader.size + 511) / 512 * 512
    }

    /// Two zero blocks end the archive; the file takes its name only now.
    public mutating func finish() throws {
        try output.write([UInt8](repeating: 0, count: 1024), at: position)
        position += 1024
        try output.setLength(position)
        try output.close()
    }

    static func header(name: String, size: UInt64) throws -> [UInt8] {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= 100, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
            throw VMwareSourceError.invalid(file: name, reason: "a tar member's name must be a relative path of 1 to 100 bytes")
        }
        guard size <= 0o77777777777 else {
            throw VMwareSourceError.invalid(file: name, reason: "a member of \(size) bytes is larger than ustar's 8 GiB")
        }
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: UInt64, at offset: Int, length: Int) {
            put(String(value, radix: 8).leftPadded(to: length - 1), at: offset)
        }
        header.replaceSubrange(0..<nameBytes.count, with: nameBytes)
        octal(0o644, at: 100, length: 8)
        octal(0, at: 108, length: 8)
        octal(0, at: 116, length: 8)
        octal(size, at: 124, length: 12)
        octal(UInt64(Date().timeIntervalSince1970), at: 136, length: 12)
        header[156] = UInt8(ascii: "0")
        put("ustar\u{0}00", at: 257)
        // The checksum is computed with its own field as spaces.
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + UInt64($1) }
        put(String(sum, radix: 8).leftPadded(to: 6) + "\u{0} ", at: 148)
        return header
    }
}

private extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
