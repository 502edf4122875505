import FerryCore
@testable import FerryReplication
@testable import FerryKit
import FerryTestSupport
import Foundation
import Synchronization
import Testing

/// TLS on port 1500: what crosses the wire, whom an agent trusts, and the installer's HTTPS
/// on the same port.
@Suite("Replication over TLS", .serialized)
struct ReplicationTLSTests {
    /// A marker written on the source disk never appears in the bytes on the wire. Before the
    /// channel had TLS, every block crossed in clear and the marker was there to read.
    @Test func noBlockCrossesInClear() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let marker = Array("FERRY-MARKER-7f3a9c-the-source-disk-said-this".utf8)
        let disk = try TestDiskImage(in: fixture.directory, size: 4 << 20, regions: [(0, 1 << 20)], seed: 71)
        for offset in stride(from: UInt64(0), to: 4 << 20, by: 256 << 10) { try disk.write(marker, at: offset + 1000) }
        let wire = Mutex<[UInt8]>([])
        let proxy = try TamperingProxy(upstreamPort: fixture.port) { _, record in
            wire.withLock { $0 += record }
            return .pass(record)
        }
        defer { proxy.stop() }
        let summary = try #require(try await fixture.replicate(try fixture.agent(disks: [disk], port: proxy.port)).last)
        #expect(try fixture.exported(summary.snapshotID) == Data(try disk.contents()), "the marker reached the server")
        let seen = wire.withLock { $0 }
        #expect(seen.count > 4 << 20, "the proxy saw the blocks go by (\(seen.count) bytes)")
        #expect(!Self.contains(seen, marker), "the marker crossed the wire in clear")
    }

    /// An agent given another key refuses the server before it says anything: no token proof,
    /// no facts, no block; the error names the key it found and the one it wanted.
    @Test func aWrongPinGetsNothing() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: 1 << 20, regions: [(0, 4096)], seed: 72)
        let other = CertificatePin(publicKeyInfo: Array("some other server's key".utf8))
        let error = await #expect(throws: ReplicationProtocolError.self) {
            try await fixture.replicate(try fixture.agent(disks: [disk], attempts: 1, pin: other))
        }
        #expect(error?.description.contains("is not this project's replication server") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.description.contains(other.description) == true)
        #expect(fixture.server.statistics.blocksReceived == 0)
        #expect(try fixture.workspace.sourceServers.list().isEmpty)
    }

    @Test func pinsParseAndRefuseWhatIsNotOne() throws {
        let pin = CertificatePin(publicKeyInfo: [1, 2, 3])
        #expect(try CertificatePin(parsing: pin.description) == pin)
        #expect(throws: CertificatePinError.self) { try CertificatePin(parsing: "sha1//AAAA") }
        #expect(throws: CertificatePinError.self) { try CertificatePin(parsing: "sha256//bm90IDMyIGJ5dGVz") }
    }

    /// The installer, the agent and its digest come over HTTPS from port 1500, checked by curl
    /// against the project's pin; another pin gets nothing.
    @Test func theInstallerIsServedOverHTTPSWithThePin() async throws {
        let curl = "/usr/bin/curl"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-agent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let agent = directory.appendingPathComponent("ferry-agent")
        let agentBytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try agentBytes.write(to: agent)
        let fixture = try await ReplicationFixture(agentBinary: agent)
        defer { fixture.stop() }
        let pin = try fixture.pin
        let base = "https://127.0.0.1:\(fixture.port)"

        let script = try HostTool.run(curl, ["-fsS", "--insecure", "--pinnedpubkey", pin.description, "\(base)/installer"])
        #expect(script.status == 0, "\(script.output)")
        let sha256 = ChunkHash(hashing: Array(agentBytes)).hex
        #expect(script.output.contains("PIN='\(pin)'"))
        #expect(script.output.contains("SERVER='127.0.0.1:\(fixture.port)'"))
        #expect(script.output.contains("AGENT_SHA256='\(sha256)'"))

        let download = directory.appendingPathComponent("downloaded")
        let fetched = try HostTool.run(curl, ["-fsS", "--insecure", "--pinnedpubkey", pin.description, "-o", download.path, "\(base)/agent"])
        #expect(fetched.status == 0, "\(fetched.output)")
        #expect(try Data(contentsOf: download) == agentBytes)

        let other = CertificatePin(publicKeyInfo: Array("another key".utf8))
        let refused = try HostTool.run(curl, ["-fsS", "--insecure", "--pinnedpubkey", other.description, "\(base)/installer"])
        #expect(refused.status != 0)
        #expect(refused.output.lowercased().contains("pinned"), "\(refused.output)")

        let missing = try HostTool.run(curl, ["-sS", "--insecure", "--pinnedpubkey", pin.description, "\(base)/nothing-here"])
        #expect(missing.output.contains("not found"))
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first, Array(haystack[index..<(index + needle.count)]) == needle { return true }
            index += 1
        }
        return false
    }
}
