import Testing
import FerryCore
@testable import FerryKit

@Suite("plugin protocol framing")
struct PluginFrameTests {
    func parse(_ text: String) throws(PluginFrame.Failure) -> PluginFrame.Lengths {
        try PluginFrame.parseHeader(Array(text.utf8))
    }

    @Test func headersAnnounceTheJSONAndTheBinaryPart() throws {
        #expect(try parse("Content-Length: 67") == .init(json: 67, binary: 0))
        #expect(try parse("content-length:67\r\nBINARY-LENGTH:  4096 ") == .init(json: 67, binary: 4096))
        // LSP libraries add a Content-Type; unknown headers are ignored.
        #expect(try parse("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 2") == .init(json: 2, binary: 0))
    }

    @Test func whatFerryWritesIsWhatItReads() throws {
        let header = PluginFrame.header(jsonCount: 10, binaryCount: 512)
        #expect(String(decoding: header, as: UTF8.self) == "Content-Length: 10\r\nBinary-Length: 512\r\n\r\n")
        #expect(try PluginFrame.parseHeader(Array(header.dropLast(4))) == .init(json: 10, binary: 512))
        #expect(String(decoding: PluginFrame.header(jsonCount: 3, binaryCount: 0), as: UTF8.self) == "Content-Length: 3\r\n\r\n")
    }

    @Test func badHeadersAreRefusedWithTheReason() {
        #expect(throws: PluginFrame.Failure.missingContentLength) { try parse("Binary-Length: 3") }
        #expect(throws: PluginFrame.Failure.badLength(name: "Content-Length", value: "ten")) { try parse("Content-Length: ten") }
        #expect(throws: PluginFrame.Failure.badLength(name: "Binary-Length", value: "-1")) { try parse("Content-Length: 1\r\nBinary-Length: -1") }
        #expect(throws: PluginFrame.Failure.malformedHeaderLine("hello world")) { try parse("hello world") }
        #expect(throws: PluginFrame.Failure.tooLarge(name: "Binary-Length", value: 1 << 30, limit: PluginFrame.maximumBinaryBytes)) {
            try parse("Content-Length: 1\r\nBinary-Length: \(1 << 30)")
        }
        #expect(throws: PluginFrame.Failure.headerTooLong) { try parse("X-Padding: " + String(repeating: "a", count: 2000)) }
    }
}
