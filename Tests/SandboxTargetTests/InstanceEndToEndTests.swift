import FerryKit
import Foundation
import SandboxTarget
import Testing

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
        let source = try await adapter.launchInstance(imageID: image.id, settings: settings, userData: SandboxUserData.wordPress, name: "wordpress")
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

        let pid = try #require(Self.qemuPIDs(instanceID: source.id).first)
        let peakKiB = Self.peakMemoryKiB(pid: pid)
        print("sandbox measure: launch → first HTTP 200 in \(String(format: "%.1f", firstHTTP200)) s; QEMU peak RSS \(peakKiB / 1024) MiB (t3.micro, 256 MiB guest)")

        // Its disk, as a staging snapshot would hold it, imported as a volume.
        _ = try await adapter.stopInstance(id: source.id)
        #expect(Self.qemuPIDs(instanceID: source.id).isEmpty)
        let exported = workspace.root.appendingPathComponent("exported.raw").path
        try cloud.exportDisk(instanceID: source.id, to: exported)
        let terminated = try await adapter.terminateInstance(id: source.id)
        #expect(terminated.state == .terminated)
        #expect(Self.qemuPIDs(instanceID: source.id).isEmpty)
        #expect(try cloud.instanceDetails(id: source.id).ports.isEmpty)

        let volume = try await adapter.importVolume(VolumeImportRequest(name: "wordpress-disk", source: try RawFileReader(path: exported)), progress: nil)
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
