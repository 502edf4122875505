import FerryCore
import FerryKit
import Foundation
import FerryTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import AWSTarget

/// The workshop with `--target aws` against moto, the AWS-compatible server: the source
/// side (SourceVPC's WordPress) stays on the sandbox — the "other infrastructure" — and
/// really boots under QEMU; the networks, the migration user, the staging and the launches
/// are created in the AWS-style cloud, with the snapshots really uploaded through the EBS
/// direct APIs. What moto cannot do is boot: its instances have no address reachable from
/// here, so the HTTP checks of the test and cutover instances are skipped, and say so.
@Suite("ferry recipe run workshop --target aws (moto)", .serialized)
struct WorkshopAWSTests {
    static let region = "eu-west-1"
    static let accessKeyID = "AKIAFERRYTEST0000001"
    static let secret = "ferry-test-secret"

    @Test(.timeLimit(.minutes(10)))
    func theWorkshopRunsOnAnAWSStyleCloudWithTheSourceOnTheSandboxAndDestroyLeavesNothing() async throws {
        let moto = try await MotoServerProcess.start()
        defer { moto.stop() }
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        let environment = Self.environment(moto: moto, directory: directory)
        let aws = AWSTargetAdapter(settings: AWSSettings(
            credentials: AWSCredentials(accessKeyID: Self.accessKeyID, secretAccessKey: Secret(Self.secret)), region: Self.region,
            endpoints: Dictionary(uniqueKeysWithValues: AWSService.allCases.map { ($0, moto.endpoint) })
        ))
        let before = try await aws.describeNetworks() // moto's default VPC

        try #require(try await Self.ferry(["init", "--workspace", workspace]).status == 0)
        let image = try await Self.ferry(["sandbox", "image", "build", "--workspace", workspace])
        try #require(image.status == 0, "\(image.stderr)")

        let started = Date()
        // The busybox guest is no distribution the converter knows: with convert=auto it is launched as replicated.
        let result = try await Self.ferry(["recipe", "run", "workshop", "--yes", "--source", "sandbox", "--target", "aws", "--workspace", workspace], environment: environment)
        let seconds = Date().timeIntervalSince(started)
        try #require(result.status == 0, "\(result.stdout.suffix(4000))\(result.stderr)")
        print("workshop on sandbox → aws (moto): \(String(format: "%.1f", seconds)) s")

        let status = try await Self.ferry(["recipe", "status", "--workspace", workspace, "--output", "json"])
        let runID = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        let run = try await Self.record(runID, workspace: workspace)
        #expect(run["status"] as? String == "succeeded")
        #expect(run["targetAdapter"] as? String == "aws")
        let steps = try #require(run["steps"] as? [[String: Any]])
        func outputs(_ step: String) -> [String: Any] {
            steps.first { $0["stepID"] as? String == step }?["outputs"] as? [String: Any] ?? [:]
        }

        // The source is on the sandbox, where WordPress really booted and its check really ran.
        let sourceURL = try #require(outputs("wordpress")["url"] as? String)
        #expect(sourceURL.hasPrefix("http://127.0.0.1:"))
        #expect(result.stdout.contains("\(sourceURL) answered 200"))
        // The test and cutover instances run in moto, which gives them no address reachable
        // from here: no URL, the reason, and checks that say they were skipped.
        for step in ["test-launch", "cutover"] {
            #expect(outputs(step)["url"] as? String == "", "\(step)")
            #expect((outputs(step)["no_endpoint_reason"] as? String)?.contains("no public IP address") == true, "\(step)")
        }
        // The test launch's check, and the cutover's two (its page and its posts).
        #expect(result.stdout.components(separatedBy: "check skipped: the target offers no endpoint reachable from here").count - 1 == 3)
        #expect(outputs("finalize")["lifecycle"] as? String == "ARCHIVED")

        // Every resource is recorded on the side that holds it.
        let resources = try #require(run["resources"] as? [[String: Any]])
        func recorded(_ environment: String, _ kind: String, step: String? = nil) -> [String] {
            resources.filter {
                $0["environment"] as? String == environment && ($0["resource"] as? [String: Any])?["kind"] as? String == kind
                    && (step == nil || $0["stepID"] as? String == step)
            }.compactMap { ($0["resource"] as? [String: Any])?["id"] as? String }
        }
        #expect(recorded("source", "vpc").count == 1)
        #expect(recorded("source", "instance").count == 1)
        #expect(recorded("target", "vpc").count == 2)
        #expect(recorded("target", "instance").count == 2)
        #expect(recorded("target", "user") == ["ferry-migration"])

        // In moto: StagingVPC and TargetVPC, not SourceVPC; the groups with their rules.
        let networks = try await aws.describeNetworks()
        let vpcNames = Set(networks.vpcs.compactMap { $0.tags["Name"] })
        #expect(vpcNames.isSuperset(of: ["StagingVPC", "TargetVPC"]))
        #expect(!vpcNames.contains("SourceVPC"))
        #expect(Set(networks.vpcs.map(\.id)).isSuperset(of: recorded("target", "vpc")))
        let replication = try #require(networks.securityGroups.first { $0.name == "replication-servers" })
        #expect(replication.vpcID == outputs("staging-network")["vpc_id"] as? String)
        // As MGN's: agents in on TCP 1500; the servers out on TCP 443 and UDP 53, and nothing else.
        #expect(Set(replication.ingress.map { "\($0.ipProtocol.rawValue):\($0.fromPort)" }) == ["tcp:1500"])
        #expect(Set(replication.egress.map { "\($0.ipProtocol.rawValue):\($0.fromPort)" }) == ["tcp:443", "udp:53"])
        #expect(networks.securityGroups.contains { $0.name == "target-web" && $0.vpcID == outputs("target-network")["vpc_id"] as? String })

        // The migration user, with exactly the adapter's workbench policy.
        let policy = try await Self.userPolicy(aws, user: "ferry-migration", policy: "FerryMigration")
        #expect(policy == Set(AWSTargetAdapter.workbenchPolicy().statements.flatMap(\.actions)))
        #expect(outputs("migration-user")["policy_actions"] as? Int == policy.count)

        // The launches: images registered, the test instance terminated at "ready for
        // cutover" with the image and snapshot its launch made, the cutover instance running
        // in TargetVPC from its image.
        let images = try await aws.describeImages()
        #expect(recorded("target", "image").count == 2)
        #expect(Set(images.map(\.id)) == Set(recorded("target", "image", step: "cutover")))
        let testLaunch = resources.filter { $0["stepID"] as? String == "test-launch" }
        #expect(testLaunch.count == 3 && testLaunch.allSatisfy { $0["destroyedAt"] != nil }, "\(testLaunch)")
        let testInstance = try await aws.describeInstance(id: try #require(outputs("test-launch")["instance_id"] as? String))
        #expect(testInstance.state == .terminated)
        let cutoverInstance = try await aws.describeInstance(id: try #require(outputs("cutover")["instance_id"] as? String))
        #expect(cutoverInstance.state == .running)
        #expect(cutoverInstance.imageID == outputs("cutover")["image_id"] as? String)
        #expect(cutoverInstance.subnetID == outputs("target-network")["subnet_id"] as? String)
        #expect(cutoverInstance.securityGroupIDs == [try #require(outputs("target-web")["security_group_id"] as? String)])

        // The snapshots were really uploaded: the cutover's holds the disk byte for byte where
        // it matters (the MBR signature, the ext4 superblock) and the blog's files.
        let snapshots = recorded("target", "snapshot")
        #expect(snapshots.count == 2)
        let cutoverSnapshot = try #require(recorded("target", "snapshot", step: "cutover").first)
        let described = try await aws.connection().ec2.describe(.describeSnapshots, QueryParameters([("SnapshotId.1", cutoverSnapshot)]), list: "snapshotSet")
        #expect(described.first?.string("status") == "completed")
        #expect(described.first?.string("volumeSize") == "1") // the 256 MiB disk, in whole GiB
        let disk = try await Self.read(snapshot: cutoverSnapshot, aws)
        #expect(disk.blocks > 4)
        #expect(disk.bytes[0]?[510] == 0x55 && disk.bytes[0]?[511] == 0xAA)
        // The partition starts at 1 MiB (block 2); the superblock's magic is 1024 + 0x38 into it.
        #expect(disk.bytes[2]?[1080] == 0x53 && disk.bytes[2]?[1081] == 0xEF)
        let holdsTheSite = disk.contains("Ferry Blog")
        #expect(holdsTheSite)
        // The cutover snapshot comes from a pass that began after the post was on the source's
        // disk, so the uploaded snapshot holds the post written during replication.
        #expect(disk.contains("Written during replication"), "the cutover snapshot \(cutoverSnapshot) (\(disk.blocks) blocks) lacks the post")

        // Destroy removes everything, on both sides, and is safe to repeat.
        let destroyed = try await Self.ferry(["recipe", "destroy", runID, "--workspace", workspace], environment: environment)
        #expect(destroyed.status == 0, "\(destroyed.stdout)\(destroyed.stderr)")
        let again = try await Self.ferry(["recipe", "destroy", runID, "--workspace", workspace], environment: environment)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("Nothing left to remove"))
        #expect(try await Self.record(runID, workspace: workspace)["status"] as? String == "destroyed")

        let after = try await aws.describeNetworks()
        #expect(Set(after.vpcs.map(\.id)) == Set(before.vpcs.map(\.id)))
        #expect(Set(after.subnets.map(\.id)) == Set(before.subnets.map(\.id)))
        #expect(Set(after.internetGateways.map(\.id)) == Set(before.internetGateways.map(\.id)))
        #expect(Set(after.routeTables.map(\.id)) == Set(before.routeTables.map(\.id)))
        #expect(Set(after.securityGroups.map(\.id)) == Set(before.securityGroups.map(\.id)))
        #expect(try await aws.describeInstances().allSatisfy { $0.state == .terminated })
        #expect(try await aws.describeImages().isEmpty)
        // Ferry's snapshots are gone. (moto's RegisterImage also makes a snapshot of its own,
        // "Auto-created snapshot for AMI …", that AWS does not; it is not Ferry's to delete.)
        let left = try await aws.connection().ec2.describe(.describeSnapshots, QueryParameters([("Owner.1", "self")]), list: "snapshotSet")
        #expect(Set(left.compactMap { $0.string("snapshotId") }).isDisjoint(with: snapshots))
        #expect(left.allSatisfy { $0.string("description")?.hasPrefix("Auto-created snapshot for AMI") == true }, "\(left.map { $0.string("description") ?? "" })")
        await #expect(throws: AWSError.self) { _ = try await aws.connection().iam.call(.getUser, QueryParameters([("UserName", "ferry-migration")])) }

        // The sandbox side: the source instance terminated, its network gone, no QEMU left.
        #expect(try WorkshopTests.qemuProcesses(mentioning: workspace).isEmpty)
        let sandbox = try await Self.ferry(["sandbox", "status", "--workspace", workspace, "--output", "json"])
        let inventory = try #require(try JSONSerialization.jsonObject(with: Data(sandbox.stdout.utf8)) as? [String: Any])
        let instances = inventory["instances"] as? [[String: Any]] ?? []
        #expect(instances.count == 1)
        #expect(instances.allSatisfy { (($0["instance"] as? [String: Any])?["state"] as? String) == "terminated" })
        let sandboxNetworks = try #require(inventory["networks"] as? [String: Any])
        for kind in ["vpcs", "subnets", "securityGroups", "internetGateways", "routeTables"] {
            #expect((sandboxNetworks[kind] as? [Any])?.isEmpty == true, "\(kind) left behind on the sandbox")
        }
        for step in ["agent", "replication-server"] {
            let pid = try #require(outputs(step)["pid"] as? Int)
            #expect(!Self.isRunning(pid), "\(step) \(pid) still runs")
        }
    }

    /// Where an endpoint exists, verify.http still checks for real: a page without the
    /// expected text fails the step; only an empty URL is skipped, and says so.
    @Test(.timeLimit(.minutes(2)))
    func verifyHTTPSkipsOnlyAnEmptyURLAndFailsOnAWrongPage() async throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let site = directory.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        try "<html><body>Another blog</body></html>".write(to: site.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        let server = try await LocalServerProcess.httpServer(serving: site)
        defer { server.stop() }
        let workspace = directory.appendingPathComponent("ws").path
        try #require(try await Self.ferry(["init", "--workspace", workspace]).status == 0)
        func recipe(_ url: String) throws -> String {
            let file = directory.appendingPathComponent("verify-\(UUID().uuidString).yaml")
            try """
            name: verify
            title: verify
            description: verify.http alone
            steps:
              - id: page
                title: the page
                explain: {en: checks the page, ja: ページを確認します}
                action: verify.http
                inputs: {url: "\(url)", contains: Ferry Blog, timeout_seconds: 2}
            """.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }
        let skipped = try await Self.ferry(["recipe", "run", try recipe(""), "--yes", "--workspace", workspace])
        #expect(skipped.status == 0, "\(skipped.stdout)\(skipped.stderr)")
        #expect(skipped.stdout.contains("check skipped: the target offers no endpoint reachable from here"))
        let wrong = try await Self.ferry(["recipe", "run", try recipe(server.endpoint.absoluteString + "/"), "--yes", "--workspace", workspace])
        #expect(wrong.status != 0)
        #expect((wrong.stdout + wrong.stderr).contains("without 'Ferry Blog'"), "\(wrong.stdout)\(wrong.stderr)")
    }

    // MARK: - Helpers

    /// Whether `pid` is a live process (a zombie, which nothing here may reap, is not).
    static func isRunning(_ pid: Int) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// Runs `ferry` on a thread of its own, so that the minute it takes does not hold one of
    /// the few threads that Swift concurrency shares among the tests.
    /// Only the test's moto and its fake keys: nothing from this machine's AWS settings.
    static func environment(moto: LocalServerProcess, directory: URL) -> [String: String] {
        var environment = [
            "AWS_ENDPOINT_URL": moto.endpoint.absoluteString, "AWS_ACCESS_KEY_ID": Self.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_REGION": Self.region,
            "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("no-credentials").path,
            "AWS_CONFIG_FILE": directory.appendingPathComponent("no-config").path,
        ]
        for name in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"] + AWSService.allCases.map(\.endpointVariable) {
            environment[name] = "" // empty counts as unset
        }
        return environment
    }

    static func ferry(_ arguments: [String], environment: [String: String] = [:]) async throws -> FerryProcess.Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try FerryProcess.run(arguments, environment: environment, in: WorkshopTests.repositoryRoot, timeoutSeconds: FerryProcess.slow) })
            }.start()
        }
    }

    static func record(_ runID: String, workspace: String) async throws -> [String: Any] {
        let status = try await ferry(["recipe", "status", runID, "--workspace", workspace, "--output", "json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
    }

    /// The actions an inline user policy allows (IAM GetUserPolicy; the document is URL-encoded JSON).
    static func userPolicy(_ aws: AWSTargetAdapter, user: String, policy: String) async throws -> Set<String> {
        let answer = try await aws.connection().iam.query.call("GetUserPolicy", QueryParameters([("UserName", user), ("PolicyName", policy)]))
        let encoded = try #require(answer.first(named: "PolicyDocument")?.text)
        let json = try #require(encoded.removingPercentEncoding)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let statements = document["Statement"] as? [[String: Any]] ?? []
        return Set(statements.flatMap { statement -> [String] in
            if let list = statement["Action"] as? [String] { return list }
            return (statement["Action"] as? String).map { [$0] } ?? []
        })
    }

    /// A snapshot's blocks read back through the EBS direct APIs (ListSnapshotBlocks, GetSnapshotBlock).
    struct SnapshotContent {
        var bytes: [Int: [UInt8]]
        var blocks: Int { bytes.count }

        /// Whether `text` occurs in the snapshot, also across two consecutive blocks.
        func contains(_ text: String) -> Bool {
            let needle = Data(text.utf8)
            var previousTail = Data()
            var previousIndex = -2
            for index in bytes.keys.sorted() {
                let block = Data(bytes[index]!)
                let window = (index == previousIndex + 1 ? previousTail : Data()) + block
                if window.range(of: needle) != nil { return true }
                previousTail = block.suffix(needle.count - 1)
                previousIndex = index
            }
            return false
        }
    }

    static func read(snapshot: String, _ aws: AWSTargetAdapter) async throws -> SnapshotContent {
        let ebs = try aws.connection().ebs
        var content = SnapshotContent(bytes: [:])
        for block in try await ebs.listSnapshotBlocks(snapshotID: snapshot).blocks {
            content.bytes[block.index] = try await ebs.getSnapshotBlock(snapshotID: snapshot, index: block.index, token: block.token)
        }
        return content
    }
}
