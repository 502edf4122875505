import FerryCore
import FerryKit
import Foundation
import Testing
@testable import PhysicalSource

/// A folder for one test's files, removed afterwards.
final class Scratch {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-physical-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func run(_ tool: String, _ arguments: [String], input: String? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let pipe = Pipe()
        if input != nil { process.standardInput = pipe }
        try process.run()
        if let input {
            pipe.fileHandleForWriting.write(Data(input.utf8))
            try pipe.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A sparse image with data at `offsets` and holes elsewhere.
    func sparseImage(_ name: String, size: UInt64, dataAt offsets: [UInt64]) throws -> String {
        _ = FileManager.default.createFile(atPath: path(name), contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path(name)))
        for offset in offsets {
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data(repeating: 0x5A, count: 4096))
        }
        try handle.truncate(atOffset: size)
        try handle.close()
        return path(name)
    }
}

@Suite struct RawDiskAsFileRegionTests {
    @Test func holesAreLeftOutOfTheAllocatedRanges() throws {
        let scratch = try Scratch()
        let image = try scratch.sparseImage("disk.img", size: 64 << 20, dataAt: [0, 32 << 20])
        let ranges = try FileRegionReader(path: image).allocatedRanges()
        let allocated = ranges.reduce(0) { $0 + $1.length }
        #expect(allocated >= 8192)
        #expect(allocated < 4 << 20)
        #expect(ranges.contains { $0.offset <= 32 << 20 && $0.end >= (32 << 20) + 4096 })
    }

    @Test func readsPastTheEndAreRefused() throws {
        let scratch = try Scratch()
        let image = try scratch.sparseImage("disk.img", size: 1 << 20, dataAt: [])
        let error = #expect(throws: BlockReaderError.self) { try FileRegionReader(path: image).read(at: (1 << 20) - 10, count: 20) }
        #expect(error?.description == "\(image): read of 20 bytes at offset 1048566 goes past the end of the disk (1048576 bytes)")
    }
}

@Suite struct ChangeStampTests {
    @Test func anImageStampChangesWhenTheImageIsWritten() throws {
        let scratch = try Scratch()
        let image = try scratch.sparseImage("disk.img", size: 1 << 20, dataAt: [0])
        let adapter = PhysicalSourceAdapter(diskImages: DiskImageReaders())
        let configuration = try AdapterConfiguration(["disk": image], for: adapter.descriptor)
        let disk = DiskFacts(name: "disk.img", sizeBytes: 1 << 20, locator: image)
        let before = try adapter.changeStamp(of: disk, configuration: configuration)
        #expect(try adapter.changeStamp(of: disk, configuration: configuration) == before)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data([1, 2, 3]))
        try handle.close()
        #expect(try adapter.changeStamp(of: disk, configuration: configuration) != before)
    }

    @Test func theAdapterIsRegisteredWithChangeTracking() throws {
        var registry = AdapterRegistry()
        try registry.register(PhysicalSourceAdapter(diskImages: DiskImageReaders()))
        #expect(registry.adapters(with: .changeTracking).map(\.name) == ["physical"])
    }
}

@Suite struct RawImageFactsTests {
    @Test func anImageWithAGPTGivesItsSizePartitionTableAndBootMode() throws {
        let scratch = try Scratch()
        let image = try scratch.sparseImage("web1.img", size: 64 << 20, dataAt: [])
        let layout = "label: gpt\n,16M,U\n,,L\n"
        #expect(try scratch.run("/usr/sbin/sfdisk", ["-q", image], input: layout) == 0)
        let facts = try PhysicalSourceAdapter(diskImages: DiskImageReaders()).imageFacts(path: image)
        #expect(facts.hostname == "web1")
        #expect(facts.bootMode == .uefi)
        #expect(facts.disks == [DiskFacts(name: "web1.img", sizeBytes: 64 << 20, locator: image, model: "raw image, GPT with 2 partitions", isBoot: true)])
    }

    @Test func aFactsFileFillsInWhatTheImageCannotTell() async throws {
        let scratch = try Scratch()
        let image = try scratch.sparseImage("db.img", size: 8 << 20, dataAt: [0])
        try scratch.write("db.json", """
            {"hostname": "db1", "operatingSystem": {"family": "linux", "name": "Debian GNU/Linux 12 (bookworm)", "version": "12"},
             "cpuCount": 4, "memoryBytes": 8589934592,
             "networkInterfaces": [{"name": "eth0", "macAddress": "52:54:00:12:34:56", "addresses": ["10.0.0.5"]}]}
            """)
        let adapter = PhysicalSourceAdapter(diskImages: DiskImageReaders())
        let configuration = try AdapterConfiguration(["disk": image, "facts": scratch.path("db.json")], for: adapter.descriptor)
        let facts = try #require(try await adapter.discoverMachines(configuration: configuration).first)
        #expect(facts.hostname == "db1")
        #expect(facts.operatingSystem.version == "12")
        #expect(facts.cpuCount == 4)
        #expect(facts.memoryBytes == 8 << 30)
        #expect(facts.networkInterfaces.map(\.addresses) == [["10.0.0.5"]])
        #expect(facts.disks.map(\.sizeBytes) == [8 << 20])
    }

    @Test func aBrokenFactsFileIsRefusedInOneLine() throws {
        let scratch = try Scratch()
        try scratch.write("bad.json", "{\"cpuCount\": \"four\"}")
        let error = #expect(throws: PhysicalSourceError.self) { try MachineFactsFile.load(path: scratch.path("bad.json")) }
        #expect(error?.description.hasPrefix("\(scratch.path("bad.json")): field 'cpuCount'") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test func withoutDiskOrLocalTheAdapterSaysWhatItNeeds() async throws {
        let adapter = PhysicalSourceAdapter(diskImages: DiskImageReaders())
        await #expect(throws: AdapterError.self) {
            try await adapter.discoverMachines(configuration: AdapterConfiguration([:], for: adapter.descriptor))
        }
    }
}

@Suite struct LocalMachineTests {
    /// A copy of the files LocalMachine reads, as a small machine would have them.
    static func fakeRoot(_ scratch: Scratch) throws -> URL {
        try scratch.write("root/etc/os-release", "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
        try scratch.write("root/proc/sys/kernel/hostname", "web1\n")
        try scratch.write("root/proc/cpuinfo", "processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\nmodel name\t: X\n")
        try scratch.write("root/proc/meminfo", "MemTotal:        4030000 kB\nMemFree:  100 kB\n")
        try scratch.write("root/sys/block/sda/size", "41943040\n")
        try scratch.write("root/sys/block/sda/ro", "0\n")
        try scratch.write("root/sys/block/sda/device/vendor", "ATA     \n")
        try scratch.write("root/sys/block/sda/device/model", "QEMU HARDDISK\n")
        try scratch.write("root/sys/block/loop0/size", "2048\n")
        try scratch.write("root/sys/block/sr0/size", "2048\n")
        try scratch.write("root/sys/block/sr0/ro", "1\n")
        try scratch.write("root/sys/block/vdb/size", "2048\n")
        try scratch.write("root/sys/block/vdb/ro", "1\n")
        try scratch.write("root/sys/class/net/lo/address", "00:00:00:00:00:00\n")
        try scratch.write("root/sys/class/net/eth0/address", "52:54:00:aa:bb:cc\n")
        return scratch.directory.appendingPathComponent("root")
    }

    @Test func factsComeFromOSReleaseProcSysBlockAndSysClassNet() throws {
        let scratch = try Scratch()
        let facts = LocalMachine(root: try Self.fakeRoot(scratch)).facts()
        #expect(facts.hostname == "web1")
        #expect(facts.operatingSystem == OperatingSystem(family: "linux", name: "Debian GNU/Linux 12 (bookworm)", version: "12"))
        #expect(facts.cpuCount == 2)
        #expect(facts.memoryBytes == 4_030_000 * 1024)
        #expect(facts.bootMode == .legacyBIOS)
        #expect(facts.networkInterfaces == [NetworkInterface(name: "eth0", macAddress: "52:54:00:aa:bb:cc")])
        #expect(facts.disks == [DiskFacts(name: "/dev/sda", sizeBytes: 20 << 30, locator: "/dev/sda", model: "ATA QEMU HARDDISK", isBoot: true)])
    }

    @Test func loopRamAndReadOnlyDevicesAreListedOnlyWhenAsked() throws {
        let scratch = try Scratch()
        let facts = LocalMachine(root: try Self.fakeRoot(scratch), includeAllDevices: true).facts()
        #expect(facts.disks.map(\.name) == ["/dev/loop0", "/dev/sda", "/dev/sr0", "/dev/vdb"])
    }

    @Test func thisMachineHasAHostnameCPUsAndMemory() throws {
        let facts = LocalMachine().facts()
        #expect(!facts.hostname.isEmpty)
        #expect(facts.cpuCount > 0)
        #expect(facts.memoryBytes > 0)
        #expect(facts.operatingSystem.family == "linux")
    }
}
