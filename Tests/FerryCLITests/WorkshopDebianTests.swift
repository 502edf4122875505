import FerryKit
import FerryTestSupport
import Foundation
import Testing

/// The workshop on the real WordPress, built as a VMware VM (vmware-debian: Debian 12 with
/// apache2, PHP and MariaDB on a pvscsi disk and a vmxnet3 NIC with a static address): installed
/// through its installation form, a post published through its XML-RPC API during
/// replication, converted by the Machine Converter at each launch, and the cutover instance
/// serving that post on its page and through its REST API. Slow: three Debian boots and two
/// conversions under emulation, and the image's first build.
@Suite("ferry workshop --param profile=vmware-debian", .serialized)
struct WorkshopDebianTests {
    @Test func anUnknownProfileIsRefusedBeforeAnythingIsMade() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        let result = try FerryProcess.run(["workshop", "--yes", "--param", "profile=nonsense", "--workspace", workspace])
        #expect(result.status == 1)
        #expect(result.stderr == "Error: unknown profile 'nonsense': the workshop's WordPress server boots one of busybox, debian-wordpress, vmware-debian\n", "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace))
    }

    @Test(.timeLimit(.minutes(40)))
    func theWorkshopMigratesTheRealWordPressFromItsVMwareShapeWithItsPost() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        let result = try FerryProcess.run(["workshop", "--yes", "--param", "profile=vmware-debian", "--workspace", workspace],
                                          environment: GuestImageTestCache.environment, in: WorkshopTests.repositoryRoot, timeoutSeconds: FerryProcess.slow)
        #expect(result.status == 0, "\(result.stdout.suffix(4000))\(result.stderr)")
        #expect(result.stdout.contains("WordPress installed: administrator ferry-admin"), "\(result.stdout.suffix(3000))")

        let (runID, statusJSON, run) = try WorkshopTests.onlyRun(in: workspace)
        #expect(run["status"] as? String == "succeeded")
        #expect((run["parameters"] as? [String: Any])?["instance_type"] as? String == "t3.medium")
        let steps = try #require(run["steps"] as? [[String: Any]])
        func outputs(_ id: String) -> [String: Any] { steps.first { $0["stepID"] as? String == id }?["outputs"] as? [String: Any] ?? [:] }
        #expect(outputs("blog")["kind"] as? String == "wordpress")
        #expect((outputs("publish-post")["post_url"] as? String)?.contains("?p=") == true)
        // The source kept its VMware address; the Machine Converter ran in the staging subnet at both launches.
        #expect(result.stdout.contains("instance wordpress-source: ") && result.stdout.contains(" 10.0.0.36"), "\(result.stdout.prefix(3000))")
        #expect(outputs("conversion")["boots_as_is"] as? String == "no")
        for launch in ["test-launch", "cutover"] {
            #expect((outputs(launch)["conversion"] as? String)?.hasSuffix("changes for sandbox") == true, "\(launch): \(outputs(launch))")
        }
        let diagram = try String(contentsOf: URL(fileURLWithPath: workspace).appendingPathComponent("runs/\(runID)/test-launch.svg"), encoding: .utf8)
        // Named for the source server, whose hostname is the guest's own now that the agent runs inside it.
        #expect(diagram.contains("Machine Converter ip-10-0-0-36"), "the converter is drawn in the staging subnet")

        // The cutover instance is WordPress, and it has the post: on its page and in its REST API.
        let url = try #require(outputs("cutover")["url"] as? String)
        let page = try String(contentsOf: try #require(URL(string: url)), encoding: .utf8)
        #expect(page.contains("<meta name=\"generator\" content=\"WordPress"), "\(page.prefix(500))")
        #expect(page.contains("Written during replication"))
        let api = try String(contentsOf: try #require(URL(string: url + "?rest_route=/wp/v2/posts")), encoding: .utf8)
        let posts = try #require(try JSONSerialization.jsonObject(with: Data(api.utf8)) as? [[String: Any]])
        #expect(posts.contains { ($0["title"] as? [String: Any])?["rendered"] as? String == "Written during replication" }, "\(api.prefix(500))")

        // The administrator's password is a secret of the run: a private file, in no output and not in the database.
        let secretFile = URL(fileURLWithPath: workspace).appendingPathComponent("runs/\(runID)/secrets/wordpress-admin-password")
        let password = try String(contentsOf: secretFile, encoding: .utf8)
        #expect(password.count == 24)
        #expect(!result.stdout.contains(password) && !result.stderr.contains(password) && !statusJSON.contains(password))
        let database = try Data(contentsOf: URL(fileURLWithPath: workspace).appendingPathComponent("ferry.sqlite"))
        #expect(database.range(of: Data(password.utf8)) == nil)

        let destroyed = try FerryProcess.run(["recipe", "destroy", runID, "--workspace", workspace])
        #expect(destroyed.status == 0, "\(destroyed.stderr)")
        #expect(try WorkshopTests.qemuProcesses(mentioning: workspace).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: secretFile.path))
    }
}
