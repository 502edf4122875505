import FerryCore
import FerryReplication
@testable import FerryKit
import Foundation
import FerryTestSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A disk image file for replication tests, read with pread like the physical source does.
final class TestDiskImage: BlockReader, @unchecked Sendable {
    let path: String
    private let fd: Int32

    /// A sparse file of `size` bytes with random data in `regions` (offset, length).
    init(in directory: URL, size: UInt64, regions: [(UInt64, Int)], seed: UInt64) throws {
        path = directory.appendingPathComponent("disk-\(UUID().uuidString).raw").path
        try SparseImage.write(path, size: size, regions: regions.map { (offset: $0.0, length: $0.1) }, seed: seed)
        fd = open(path, O_RDWR)
    }

    deinit { close(fd) }

    var size: UInt64 {
        var info = stat()
        fstat(fd, &info)
        return UInt64(info.st_size)
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n == bytes.count else { throw BlockReaderError.io(disk: path, operation: "write", errno: errno, message: "short write") }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: path)
        let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
        guard n == buffer.count else { throw BlockReaderError.io(disk: path, operation: "read", errno: errno, message: "short read") }
    }

    func allocatedRanges() throws -> [ByteRange] { [ByteRange(offset: 0, length: size)] }

    var changeStamp: String {
        var info = stat()
        fstat(fd, &info)
        return "\(info.st_size)-\(info.st_mtim.tv_sec)-\(info.st_mtim.tv_nsec)"
    }

    func contents() throws -> [UInt8] { try read(at: 0, count: Int(size)) }
}

/// A workspace in a temporary folder with a replication server running on a free port.
final class ReplicationFixture: @unchecked Sendable {
    let directory: URL
    let workspace: Workspace
    let server: ReplicationServer
    let port: Int
    private let task: Task<Void, any Error>

    init(stallAfter: Duration = .seconds(30), disconnectAfter: Duration = .seconds(120), handshakeTimeout: Duration = .seconds(10), agentBinary: URL? = nil) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-repl-\(UUID().uuidString)")
        workspace = try Workspace.create(at: directory.appendingPathComponent("ws"), ferryVersion: "test").workspace
        try AgentTokenStore(workspace: workspace).createIfMissing()
        server = try ReplicationServer(workspace: workspace, configuration: .init(host: "127.0.0.1", port: 0, stallAfter: stallAfter, disconnectAfter: disconnectAfter, handshakeTimeout: handshakeTimeout, agentBinary: agentBinary))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = self.server
        task = Task { try await server.run { continuation.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ReplicationProtocolError.connectionClosed("before listening") }
        self.port = port
    }

    var token: Secret { get throws { try AgentTokenStore(workspace: workspace).read() } }
    var pin: CertificatePin { get throws { try ReplicationCertificate(workspace: workspace).pin() } }

    /// An agent for `disks`; `port` to reach the server through something else (a proxy).
    func agent(disks: [TestDiskImage], identity: String = "test-machine", token: Secret? = nil, continuous: Bool = false,
               interval: Duration = .seconds(10), compress: Bool = false, port: Int? = nil, attempts: Int = 5,
               pin: CertificatePin? = nil) throws -> ReplicationAgent {
        ReplicationAgent(configuration: .init(
            host: "127.0.0.1", port: port ?? self.port, token: try token ?? self.token, pin: try pin ?? self.pin, identity: identity,
            facts: MachineFacts(hostname: identity, disks: disks.map { DiskFacts(name: $0.path, sizeBytes: $0.size, locator: $0.path) }),
            disks: disks.map { disk in ReplicationAgent.Disk(facts: DiskFacts(name: disk.path, sizeBytes: disk.size, locator: disk.path), reader: disk, changeStamp: { disk.changeStamp }) },
            continuous: continuous, interval: interval, compress: compress, attempts: attempts
        ))
    }

    /// Runs an agent once and returns its pass summaries.
    func replicate(_ agent: ReplicationAgent) async throws -> [AgentPassSummary] {
        let summaries = SummaryBox()
        try await agent.run { event in
            if case .committed(let summary) = event { summaries.append(summary) }
        }
        return summaries.all
    }

    /// Disk `diskIndex` of a snapshot, exported to a raw file and read back.
    func exported(_ snapshotID: String, diskIndex: Int = 0) throws -> Data {
        let file = directory.appendingPathComponent("export-\(UUID().uuidString).raw").path
        try StagingStore(workspace: workspace).exportRaw(snapshotID: snapshotID, diskIndex: diskIndex, to: file)
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try Data(contentsOf: URL(fileURLWithPath: file))
    }

    /// Stops the server and waits until it has let go of the workspace.
    func stopServer() async {
        task.cancel()
        _ = try? await task.value
    }

    func stop() {
        task.cancel()
        try? FileManager.default.removeItem(at: directory)
    }
}

final class SummaryBox: Sendable {
    private let items = Mutex<[AgentPassSummary]>([])
    func append(_ item: AgentPassSummary) { items.withLock { $0.append(item) } }
    var all: [AgentPassSummary] { items.withLock { $0 } }
}
