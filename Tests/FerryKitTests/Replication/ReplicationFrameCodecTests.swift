import FerryCore
import FerryReplication
@testable import FerryKit
import NIOCore
import Testing
import FerryTestSupport

@Suite("Replication frame codec")
struct ReplicationFrameCodecTests {
    static let hash = [UInt8](repeating: 0xab, count: 32)
    static let samples: [ReplicationFrame] = [
        .challenge(version: 1, serverNonce: [UInt8](repeating: 7, count: 32)),
        .authenticate(version: 1, agentNonce: [UInt8](repeating: 8, count: 32), proof: hash),
        .welcome(serverProof: hash),
        .refused(reason: "authentication failed: wrong token — 日本語"),
        .register(agentIdentity: "web-1-abcdef", factsJSON: Array("{\"hostname\":\"web-1\"}".utf8)),
        .registered(sourceServerID: "s-0123456789abcdef0"),
        .inventory(disk: 2, entries: [.init(index: 0, sha256: hash), .init(index: UInt64.max, sha256: hash)]),
        .inventoryEnd,
        .block(disk: 1, index: 42, sha256: hash, compressed: true, data: ByteBuffer(bytes: [1, 2, 3])),
        .trim(disk: 0, index: 9),
        .patch(disk: 1, index: 7, base: hash, pages: [0, 3, 127], data: ByteBuffer(bytes: [UInt8](repeating: 9, count: 3 * 4096))),
        .patched(disk: 1, index: 7, sha256: hash),
        .ack(disk: 3, index: 1 << 40),
        .nack(disk: 0, index: 5, reason: "SHA-256 mismatch"),
        .progress(pass: 2, bytesDone: 10, bytesTotal: 20, backlogBytes: 10, oldestPendingWrite: 1_764_000_000.5),
        .tracking(rescanning: true, description: "every block read again (this connection begins)"),
        .endOfPass(pass: 7, sourceTime: 1_764_000_000.25),
        .committed(pass: 7, snapshotID: "pit-0123456789abcdef0"),
        .heartbeat,
        .goodbye,
    ]

    @Test(arguments: samples)
    func everyFrameRoundTrips(_ frame: ReplicationFrame) throws {
        let bytes = ReplicationFrameCodec.encode(frame)
        let decoded = try #require(try ReplicationFrameCodec.decode(bytes[...]))
        #expect(decoded.0 == frame)
        #expect(decoded.1 == bytes.count)
    }

    @Test func aPartialFrameAsksForMoreBytes() throws {
        let bytes = ReplicationFrameCodec.encode(.registered(sourceServerID: "s-1"))
        for cut in 0..<bytes.count {
            #expect(try ReplicationFrameCodec.decode(bytes[..<cut]) == nil)
        }
    }

    @Test func twoFramesInOneBufferDecodeOneAfterTheOther() throws {
        let bytes = ReplicationFrameCodec.encode(.heartbeat) + ReplicationFrameCodec.encode(.ack(disk: 1, index: 2))
        let (first, used) = try #require(try ReplicationFrameCodec.decode(bytes[...]))
        #expect(first == .heartbeat)
        #expect(try ReplicationFrameCodec.decode(bytes[used...])?.0 == .ack(disk: 1, index: 2))
    }

    @Test func anOversizedFrameIsRefusedBeforeItArrives() {
        let header: [UInt8] = [0x00, 0x10, 0x00, 0x00, 20]
        #expect(throws: ReplicationProtocolError.frameTooLarge(length: 0x100000, limit: 1024)) {
            try ReplicationFrameCodec.decode(header[...], maximumLength: 1024)
        }
    }

    @Test func unknownTypesAndTrailingBytesAreErrors() {
        #expect(throws: ReplicationProtocolError.unknownFrameType(99)) {
            try ReplicationFrameCodec.decode([0, 0, 0, 1, 99][...])
        }
        var bytes = ReplicationFrameCodec.encode(.heartbeat)
        bytes[3] += 1
        bytes.append(0)
        #expect(throws: ReplicationProtocolError.self) { try ReplicationFrameCodec.decode(bytes[...]) }
    }

    @Test func aPatchMustNameDistinctPagesOfItsBlockAndCarryThem() {
        let hash = [UInt8](repeating: 1, count: 32)
        for (pages, bytes) in [([UInt8](), 0), ([128], 4096), ([2, 2], 8192), ([1, 2], 4096), (Array(0..<33), 33 * 4096)] {
            let frame = ReplicationFrameCodec.encode(.patch(disk: 0, index: 1, base: hash, pages: pages, data: ByteBuffer(bytes: [UInt8](repeating: 0, count: bytes))))
            #expect(throws: ReplicationProtocolError.self, "pages \(pages) with \(bytes) bytes") { _ = try ReplicationFrameCodec.decode(frame[...]) }
        }
    }

    @Test func anInventoryCannotClaimMoreEntriesThanItCarries() {
        // disk 0, then a claim of 1,000,000 entries and none of them.
        let payload: [UInt8] = [0, 0, 0, 0] + [0x00, 0x0f, 0x42, 0x40]
        let bytes: [UInt8] = [0, 0, 0, UInt8(1 + payload.count), ReplicationFrameType.inventory.rawValue] + payload
        #expect(throws: ReplicationProtocolError.self) { try ReplicationFrameCodec.decode(bytes[...]) }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<5000 {
            let length = Int(generator.next() % 64)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if bytes.count >= 4 { bytes[0] = 0; bytes[1] = 0 }
            _ = try? ReplicationFrameCodec.decode(bytes[...], maximumLength: 1024)
        }
        // Mutations of valid frames: decoded or refused, never a crash.
        for frame in Self.samples {
            let valid = ReplicationFrameCodec.encode(frame)
            for _ in 0..<200 {
                var bytes = valid
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                _ = try? ReplicationFrameCodec.decode(bytes[...])
            }
        }
    }
}

@Suite("Replication handshake proofs")
struct ReplicationAuthenticationTests {
    let token = Secret("0123456789abcdef")
    let serverNonce = [UInt8](repeating: 1, count: 32)
    let agentNonce = [UInt8](repeating: 2, count: 32)

    @Test func theAgentsProofVerifiesOnlyWithTheSameToken() {
        let proof = ReplicationAuthentication.agentProof(token: token, serverNonce: serverNonce, agentNonce: agentNonce)
        #expect(ReplicationAuthentication.verify(proof, equals: ReplicationAuthentication.agentProof(token: token, serverNonce: serverNonce, agentNonce: agentNonce)))
        #expect(!ReplicationAuthentication.verify(proof, equals: ReplicationAuthentication.agentProof(token: Secret("other"), serverNonce: serverNonce, agentNonce: agentNonce)))
        #expect(!ReplicationAuthentication.verify(proof, equals: ReplicationAuthentication.agentProof(token: token, serverNonce: agentNonce, agentNonce: serverNonce)))
    }

    @Test func oneDirectionsProofIsNotTheOthers() {
        #expect(ReplicationAuthentication.agentProof(token: token, serverNonce: serverNonce, agentNonce: agentNonce)
            != ReplicationAuthentication.serverProof(token: token, serverNonce: serverNonce, agentNonce: agentNonce))
    }

    @Test func theTokenNeverAppearsInTheHandshake() {
        let proof = ReplicationAuthentication.agentProof(token: token, serverNonce: serverNonce, agentNonce: agentNonce)
        let wire = ReplicationFrameCodec.encode(.authenticate(version: 1, agentNonce: agentNonce, proof: proof))
        let tokenBytes = Array(token.reveal().utf8)
        let found = (0...(wire.count - tokenBytes.count)).contains { Array(wire[$0..<($0 + tokenBytes.count)]) == tokenBytes }
        #expect(!found)
    }
}

