import FerryCore
import FerryKit
import Foundation
import SandboxTarget
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real guests under QEMU: one at a time, each killed before the test ends.
@Suite(.serialized)
struct InstanceEndToEndTests {
    @Test func wordPressInstanceServesPostsAndItsImportedDiskBootsWithThem() async throws {
        let workspace = try TestWorkspace()
        let cloud = workspace.cloud
        let adapter = workspace.adapter
        let image = try BaseImageCache.register(in: cloud)

        let vpc = try await adapter.createVPC(cidrBlock: "10.0.0.0/16", tags: ["Name": "SourceVPC"])
        let subnet = try await adapter.createSubnet(vpcID: vpc.id, cidrBlock: "10.0.1.0/24", availabilityZone: nil, tags: [:])
        let web = try await adapter.createSecurityGroup(vpcID: vpc.id, name: "web", description: "HTTP", tags: [:])
        try await adapter.authorizeIngress(securityGroupID: web.id, rules: [.tcp(80)])
        let settings = LaunchSettings(instanceType: "t3.micro", subnetID: subnet.id, securityGroupIDs: [web.id])

        // Launch with the WordPress user data; the first HTTP 200 is timed.
        let started = Date()
        let source = try await adapter.launchInstance(imageID: image.id, settings: settings, userData: BuiltInRecipes.wordPressUserData, name: "wordpress")
        #expect(source.privateIPAddress == "10.0.1.4")
        let endpoint = try await adapter.endpoint(instanceID: source.id, port: 80)
        #expect(endpoint.host == "127.0.0.1")
        let home = try HTTP.waitFor200(endpoint.port, timeout: 240)
        let firstHTTP200 = Date().timeIntervalSince(started)
        #expect(home.body.contains("Ferry Blog"))
        #expect(try cloud.waitForFirstBoot(id: source.id, timeout: 60) == .succeeded)
        #expect(try await adapter.describeInstance(id: source.id).state == .running)
        #expect(try cloud.consoleOutput(id: source.id).contains("FERRY-FIRST-BOOT SUCCEEDED \(source.id)"))

        // Publish a post inside the guest and read it back.
        let published = try HTTP.postForm(endpoint.port, "/cgi-bin/publish", [("title", "Hello from the source"), ("body", "Written on the instance's own disk.")])
        #expect(published.status == 201)
        let postPath = published.body.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try HTTP.get(endpoint.port, "/").body.contains("Hello from the source"))
        #expect(try HTTP.get(endpoint.port, postPath).body.contains("Written on the instance's own disk."))

        // A requested address is checked against the subnet and the other instances; nothing is recorded.
        await #expect(throws: SandboxError.privateIPInUse(ip: "10.0.1.4", instanceID: source.id)) {
            try await adapter.launchInstance(imageID: image.id, settings: Self.settings(settings, ip: "10.0.1.4"), userData: nil, name: nil)
        }
        await #expect(throws: SandboxError.privateIPOutsideSubnet(ip: "10.0.2.9", subnetID: subnet.id, cidr: "10.0.1.0/24")) {
            try await adapter.launchInstance(imageID: image.id, settings: Self.settings(settings, ip: "10.0.2.9"), userData: nil, name: nil)
        }
        await #expect(throws: SandboxError.privateIPReserved(ip: "10.0.1.2", subnetID: subnet.id)) {
            try await adapter.launchInstance(imageID: image.id, settings: Self.settings(settings, ip: "10.0.1.2"), userData: nil, name: nil)
        }
        #expect(try await adapter.describeInstances().map(\.id) == [source.id])
        await #expect(throws: SandboxError.dependencyViolation(resource: "subnet \(subnet.id)", usedBy: ["instance \(source.id)"])) {
            try await adapter.deleteNetworkResource(CloudResource(kind: .subnet, id: subnet.id))
        }

        let pid = try #require(Self.qemuPIDs(instanceID: source.id).first)
        let peakKiB = Self.peakMemoryKiB(pid: pid)
        print("sandbox measure: launch → first HTTP 200 in \(String(format: "%.1f", firstHTTP200)) s; QEMU peak RSS \(peakKiB / 1024) MiB (t3.micro, 256 MiB guest)")

        // Its disk, as a staging snapshot would hold it, imported as a volume.
        _ = try await adapter.stopInstance(id: source.id)
        #expect(Self.qemuPIDs(instanceID: source.id).isEmpty)
        #expect(try await adapter.describeInstance(id: source.id).state == .stopped)

        // Its host port taken by another program: start says so and starts nothing.
        let squatter = try #require(Self.listen(port: endpoint.port))
        await #expect(throws: SandboxError.hostPortTaken(port: endpoint.port, instanceID: source.id)) {
            try await adapter.startInstance(id: source.id)
        }
        close(squatter)
        #expect(Self.qemuPIDs(instanceID: source.id).isEmpty)

        // Started again on the same port, it serves the post it wrote before the stop.
        #expect(try await adapter.startInstance(id: source.id).state == .pending)
        try cloud.waitUntilRunning(id: source.id, timeout: 240)
        #expect(try HTTP.waitFor200(endpoint.port, timeout: 60).body.contains("Hello from the source"))
        _ = try await adapter.stopInstance(id: source.id)

        let exported = workspace.root.appendingPathComponent("exported.raw").path
        try cloud.exportDisk(instanceID: source.id, to: exported)
        let terminated = try await adapter.terminateInstance(id: source.id)
        #expect(terminated.state == .terminated)
        #expect(Self.qemuPIDs(instanceID: source.id).isEmpty)
        #expect(try cloud.instanceDetails(id: source.id).ports.isEmpty)

        let volume = try await adapter.importVolume(VolumeImportRequest(name: "wordpress-disk", source: try FileRegionReader(path: exported)), progress: nil)
        try FileManager.default.removeItem(atPath: exported)
        let imported = try await adapter.registerImage(name: "wordpress-migrated", rootVolume: volume, additionalVolumes: [], bootMode: .legacyBIOS, tags: [:])

        // The imported disk boots as a new instance and serves the same posts.
        let target = try await adapter.launchInstance(imageID: imported.id, settings: settings, userData: nil, name: "wordpress-test")
        let targetEndpoint = try await adapter.endpoint(instanceID: target.id, port: 80)
        let targetHome = try HTTP.waitFor200(targetEndpoint.port, timeout: 240)
        #expect(targetHome.body.contains("Hello from the source"))
        #expect(try HTTP.get(targetEndpoint.port, postPath).body.contains("Written on the instance's own disk."))
        #expect(try cloud.waitForFirstBoot(id: target.id, timeout: 60) == .succeeded)
        _ = try await adapter.terminateInstance(id: target.id)
        #expect(Self.qemuPIDs(instanceID: target.id).isEmpty)
    }

    @Test func aGuestThatNeverBootsTimesOutAndADeadProcessIsReportedLeavingNothing() async throws {
        let workspace = try TestWorkspace()
        let cloud = workspace.cloud
        let adapter = workspace.adapter
        // A blank disk: the BIOS finds nothing to boot.
        let blank = MemoryDisk(bytes: [UInt8](repeating: 0, count: 1 << 20), allocated: [])
        let volume = try await adapter.importVolume(VolumeImportRequest(name: "blank", source: blank), progress: nil)
        let image = try await adapter.registerImage(name: "blank", rootVolume: volume, additionalVolumes: [], bootMode: .legacyBIOS, tags: [:])

        let silent = try await adapter.launchInstance(imageID: image.id, settings: LaunchSettings(instanceType: "t3.nano"), userData: nil, name: nil)
        #expect {
            try cloud.waitForFirstBoot(id: silent.id, timeout: 5)
        } throws: { error in
            guard case .firstBootTimeout(let id, 5, _) = error as? SandboxError else { return false }
            return id == silent.id
        }
        #expect(try await adapter.describeInstance(id: silent.id).state == .terminated)
        #expect(Self.qemuPIDs(instanceID: silent.id).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: cloud.directory.appendingPathComponent("instances/\(silent.id)").path))

        let doomed = try await adapter.launchInstance(imageID: image.id, settings: LaunchSettings(instanceType: "t3.nano"), userData: nil, name: nil)
        let pid = try #require(Self.qemuPIDs(instanceID: doomed.id).first)
        kill(pid, SIGKILL)
        for _ in 0..<50 where !Self.qemuPIDs(instanceID: doomed.id).isEmpty { usleep(100_000) }
        #expect(try await adapter.describeInstance(id: doomed.id).state == .stopped)
        #expect {
            try cloud.waitForFirstBoot(id: doomed.id, timeout: 5)
        } throws: { error in
            guard case .processDied(let id, _) = error as? SandboxError else { return false }
            return id == doomed.id
        }
        #expect(try await adapter.describeInstance(id: doomed.id).state == .terminated)
    }

    static func settings(_ base: LaunchSettings, ip: String) -> LaunchSettings {
        var settings = base
        settings.privateIPPolicy = .fixed(ip)
        return settings
    }

    /// A listener on 127.0.0.1:`port`, as another program would hold it.
    static func listen(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let bound = withLoopbackAddress(port: port) { bind(fd, $0, $1) }
        guard bound == 0, Glibc.listen(fd, 1) == 0 else { close(fd); return nil }
        return fd
    }

    /// Pids of live QEMU processes whose command line names `instanceID`.
    static func qemuPIDs(instanceID: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let command = String(decoding: data, as: UTF8.self)
            return command.contains("qemu-system") && command.contains(instanceID)
        }
    }

    static func peakMemoryKiB(pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
