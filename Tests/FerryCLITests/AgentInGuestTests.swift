import FerryKit
import FerryTestSupport
import Foundation
import Testing

/// The agent inside a real guest: installed by its installer from the replication server in
/// the staging subnet, with the guest's own facts, over the guest's network through the
/// security groups; it survives a reboot, stalls when the TCP 1500 rule goes and resumes
/// when it comes back, and uninstalls. The same writer checks the points of the hypervisor
/// mode (the guest's disk replicated agentless through QEMU) beside the agent's own. Before,
/// the "agent" was a process on this machine reading the guest's disk file, its facts this
/// machine's, and the security groups changed nothing. Slow: a Debian guest boots twice under
/// emulation.
@Suite("The agent in a guest", .serialized)
struct AgentInGuestTests {
    /// Networks, the source server, the replication servers' group and server, the agent and
    /// its initial sync: the workshop's steps 1 to 6, on the VMware-shaped Debian guest (the
    /// workshop test's image, built once per run).
    static let recipe = """
    name: agent-in-guest
    title: The agent installed in a Debian guest
    steps:
      - {id: source-network, title: SourceVPC, action: network.create-vpc, inputs: {name: SourceVPC, cidr: 10.0.0.0/16, subnet_cidr: 10.0.0.0/24}}
      - {id: staging-network, title: StagingVPC, action: network.create-vpc, inputs: {name: StagingVPC, cidr: 10.1.0.0/16, subnet_cidr: 10.1.1.0/24}}
      - {id: source-web, title: HTTP in, action: network.create-security-group, inputs: {vpc_id: "${steps.source-network.vpc_id}", name: source-web, ingress: ["tcp:80:0.0.0.0/0"]}}
      - id: replication-group
        title: replication servers
        action: network.create-security-group
        inputs: {vpc_id: "${steps.staging-network.vpc_id}", name: replication-servers, ingress: ["tcp:1500:0.0.0.0/0"], egress: ["tcp:443:0.0.0.0/0", "udp:53:0.0.0.0/0"]}
      - {id: image, title: image, action: image.find, inputs: {name: vmware-debian}}
      - id: source
        title: the source server
        action: workload.launch-instance
        inputs: {name: source, image_id: "${steps.image.image_id}", subnet_id: "${steps.source-network.subnet_id}", security_group_ids: ["${steps.source-web.security_group_id}"], instance_type: t3.medium, role: workload}
        checks:
          - action: verify.http
            inputs: {url: "${steps.source.url}", instance_id: "${steps.source.instance_id}", timeout_seconds: 600}
      - id: replication-server
        title: the replication server
        action: replication.start-server
        inputs: {subnet_id: "${steps.staging-network.subnet_id}", security_group_ids: ["${steps.replication-group.security_group_id}"]}
      - id: agent
        title: the agent
        action: agent.install
        inputs: {instance_id: "${steps.source.instance_id}", server: "${steps.replication-server.agent_address}", subnet_id: "${steps.source-network.subnet_id}", mode: in-guest}
      - {id: initial-sync, title: initial sync, action: replication.wait, inputs: {source_server_id: "${steps.agent.source_server_id}"}}
      - id: hypervisor
        title: the same disk, agentless
        action: agent.install
        inputs: {instance_id: "${steps.source.instance_id}", server: "${steps.replication-server.agent_address}", subnet_id: "${steps.source-network.subnet_id}", mode: agentless, hostname: source-through-qemu, interval_seconds: 10}
      - {id: hypervisor-sync, title: its initial sync, action: replication.wait, inputs: {source_server_id: "${steps.hypervisor.source_server_id}"}}
    """

    @Test(.timeLimit(.minutes(30)))
    func theAgentRunsInTheGuestThroughTheSecurityGroups() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        let recipeFile = directory.appendingPathComponent("agent-in-guest.yaml")
        try Self.recipe.write(to: recipeFile, atomically: true, encoding: .utf8)
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        let built = try FerryProcess.run(["sandbox", "image", "build", "--profile", "vmware-debian", "--workspace", workspace], environment: GuestImageTestCache.environment, timeoutSeconds: FerryProcess.slow)
        #expect(built.status == 0, "\(built.stderr)")
        let run = try FerryProcess.run(["recipe", "run", recipeFile.path, "--yes", "--workspace", workspace], environment: GuestImageTestCache.environment, timeoutSeconds: FerryProcess.slow)
        #expect(run.status == 0, "\(run.stdout.suffix(4000))\(run.stderr)")
        let (runID, _, status) = try WorkshopTests.onlyRun(in: workspace)
        defer { _ = try? FerryProcess.run(["recipe", "destroy", runID, "--workspace", workspace]) }
        let steps = try #require(status["steps"] as? [[String: Any]])
        func outputs(_ id: String) -> [String: Any] { steps.first { $0["stepID"] as? String == id }?["outputs"] as? [String: Any] ?? [:] }
        let instance = try #require(outputs("source")["instance_id"] as? String)
        let serverID = try #require(outputs("agent")["source_server_id"] as? String)
        let groupID = try #require(outputs("replication-group")["security_group_id"] as? String)
        // The same disk replicated agentless too, by the hypervisor mode (QEMU's dirty bitmaps,
        // points by image fleecing), so that one writer checks both ways of closing a point.
        let hypervisorServerID = try #require(outputs("hypervisor")["source_server_id"] as? String)
        let hypervisorAgent = try #require(outputs("hypervisor")["pid"] as? Int)
        #expect(outputs("agent")["mode"] as? String == "in-guest")
        #expect(outputs("replication-server")["agent_address"] as? String == "10.1.1.254:1500")
        // The installer's own words, from inside the guest.
        #expect(run.stdout.contains("Disk to replicate identified: /dev/sda 4 GiB"), "\(run.stdout.suffix(3000))")
        #expect(run.stdout.contains("The following is the source server ID: \(serverID)."))

        // The source server's facts are the guest's, not this machine's.
        var server = try Self.sourceServer(serverID, workspace: workspace)
        let facts = try #require(server["facts"] as? [String: Any])
        #expect(facts["memoryBytes"] as? Int == 512 << 20, "t3.medium: \(facts["memoryBytes"] ?? "?")")
        #expect(facts["cpuCount"] as? Int == 2)
        // pvscsi: the disk is sda in the guest, whatever the file is called on this machine.
        #expect((facts["disks"] as? [[String: Any]])?.map { $0["name"] as? String } == ["/dev/sda"])
        let addresses = (facts["networkInterfaces"] as? [[String: Any]])?.flatMap { $0["addresses"] as? [String] ?? [] } ?? []
        #expect(addresses.contains("10.0.0.36"), "the VMware guest's static address: \(addresses)")
        #expect((facts["operatingSystem"] as? [String: Any])?["name"] as? String == "Debian GNU/Linux 12 (bookworm)")

        // The agent links nothing the guest lacks.
        let ldd = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--", "ldd /usr/local/lib/ferry-agent/ferry-agent"])
        #expect(ldd.status == 0 && !ldd.stdout.contains("not found") && !ldd.stdout.contains("libswift"), "\(ldd.stdout)")

        // Points in time are the disk at one instant: while a writer appends records, every
        // snapshot retained holds a gap-free prefix of them. With FERRY_TEST_CONSISTENCY_RESCAN=1
        // the agent runs as it did before write tracking (every pass rereads the disk) and the
        // same check must fail: what shows that it can.
        let rescan = ProcessInfo.processInfo.environment["FERRY_TEST_CONSISTENCY_RESCAN"] == "1"
        if rescan {
            let switched = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--",
                                                 "systemctl stop ferry-agent && (setsid nohup /usr/local/lib/ferry-agent/ferry-agent run --write-tracking rescan > /root/rescan.log 2>&1 < /dev/null &) && echo switched"])
            #expect(switched.stdout.contains("switched"), "\(switched.stdout)\(switched.stderr)")
        } else {
            let tracking = (server["replicationMetrics"] as? [String: Any])?["writeTracking"] as? String ?? ""
            #expect(tracking.contains("the block layer's trace of /dev/sda") && tracking.contains("frozen: the file systems on /dev/sda (/"), "\(tracking)")
        }
        let hypervisorTracking = (try Self.sourceServer(hypervisorServerID, workspace: workspace)["replicationMetrics"] as? [String: Any])?["writeTracking"] as? String ?? ""
        #expect(hypervisorTracking.contains("QEMU's dirty bitmap of"), "\(hypervisorTracking)")
        let writerStarted = Date()
        let writer = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--", PointInTimeConsistency.startWriter])
        #expect(writer.stdout.contains("started"), "\(writer.stdout)\(writer.stderr)")
        // A minute of writing at least; on a slower machine, on until four points have been
        // committed since the writer started (three or more of them then hold records), for
        // four minutes at most. Each sample is kept: a failure shows how replication went.
        var lags: [Double] = []
        var timeline: [String] = []
        let writingAtLeast = Date().addingTimeInterval(rescan ? 150 : 60)
        let writingAtMost = Date().addingTimeInterval(rescan ? 150 : 240)
        while Date() < writingAtMost {
            Thread.sleep(forTimeInterval: 5)
            let sample = try Self.sourceServer(serverID, workspace: workspace)
            let metrics = sample["replicationMetrics"] as? [String: Any] ?? [:]
            if let lag = metrics["lagSeconds"] as? Double { lags.append(lag) }
            let points = try Self.snapshotsTaken(serverID: serverID, workspace: workspace, since: writerStarted)
            let hypervisorPoints = try Self.snapshotsTaken(serverID: hypervisorServerID, workspace: workspace, since: writerStarted)
            timeline.append(String(format: "+%3.0f s %@ lag %@ backlog %@ points %d (agentless %d); %@", Date().timeIntervalSince(writerStarted),
                                   sample["dataReplicationState"] as? String ?? "?", "\(metrics["lagSeconds"] ?? "none")",
                                   "\(metrics["backlogBytes"] ?? "none")", points, hypervisorPoints, metrics["writeTracking"] as? String ?? ""))
            if Date() >= writingAtLeast, rescan || (points >= 4 && hypervisorPoints >= 4) { break }
        }
        let recordsWritten = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--", PointInTimeConsistency.stopWriter])
        var verdicts: [String: PointInTimeConsistency.Verdict] = [:]
        try PointInTimeConsistency.checkNewSnapshots(serverID: serverID, workspace: workspace, directory: directory, since: writerStarted, checked: &verdicts)
        var hypervisorVerdicts: [String: PointInTimeConsistency.Verdict] = [:]
        if !rescan {
            try PointInTimeConsistency.checkNewSnapshots(serverID: hypervisorServerID, workspace: workspace, directory: directory, since: writerStarted, checked: &hypervisorVerdicts)
        }
        // Done with it: the rest is the agent in the guest's (stalls, a reboot, its uninstall).
        kill(pid_t(hypervisorAgent), SIGTERM)
        let hypervisorReport = hypervisorVerdicts.values.sorted { $0.snapshotID < $1.snapshotID }.map(\.description).joined(separator: "\n")
        let report = verdicts.values.sorted { $0.snapshotID < $1.snapshotID }.map(\.description).joined(separator: "\n")
        print("records written: \(recordsWritten.stdout.trimmingCharacters(in: .whitespacesAndNewlines)); lag seen: \(lags.map { String(format: "%.1f", $0) }.joined(separator: " ")) s\n\(report)")
        if rescan {
            #expect(verdicts.values.contains { $0.problem != nil }, "the rescan design must break the check:\n\(report)")
            return
        }
        let enough = verdicts.values.filter { $0.records > 0 }.count >= 3
        #expect(enough, "\(report)")
        print("agentless, through QEMU:\n\(hypervisorReport)")
        #expect(hypervisorVerdicts.values.filter { $0.records > 0 }.count >= 3, "\(hypervisorReport)")
        #expect(hypervisorVerdicts.values.allSatisfy { $0.problem == nil }, "\(hypervisorReport)")
        // The trace is followed without a loss while the writer writes as fast as it can (a
        // reader of the relay files through read(2) lost it every few minutes here).
        let rescans = timeline.filter { $0.contains("every block read again") }
        #expect(rescans.isEmpty, "\(rescans.first ?? "")")
        #expect(verdicts.values.allSatisfy { $0.problem == nil }, "\(report)")
        #expect(!lags.isEmpty && lags.allSatisfy { $0 < 30 }, "lag while writing: \(lags)")
        if !enough || !rescans.isEmpty || !lags.allSatisfy({ $0 < 30 }) {
            print("while writing:\n\(timeline.joined(separator: "\n"))\n\(try Self.agentAndServerLogs(instance: instance, runID: runID, workspace: workspace))")
        }

        // The TCP 1500 rule removed: STALLED, and the message names the rule that is missing.
        let revoke = try FerryProcess.run(["sandbox", "security-group", "revoke", groupID, "tcp:1500:0.0.0.0/0", "--workspace", workspace])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        server = try Self.waitFor(serverID, workspace: workspace, seconds: 120) { $0["dataReplicationState"] as? String == "STALLED" && Self.error($0).contains("TCP 1500") }
        #expect(Self.error(server).contains("\(groupID) (replication-servers)"), "\(Self.error(server))")
        #expect(Self.error(server).contains("allows no inbound TCP 1500 from 10.0.0.36"), "\(Self.error(server))")
        // Written while the agent cannot reach its server: it must arrive once the rule is back.
        let whileStalled = "ferry-while-stalled-\(UUID().uuidString)"
        let stalledWrite = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--", "echo \(whileStalled) > /root/stalled.txt && sync"])
        #expect(stalledWrite.status == 0, "\(stalledWrite.stdout)\(stalledWrite.stderr)")
        // Restored: the agent comes back by itself; its trace ran on meanwhile, so it sends what
        // was written since its last point (the file above among it) and follows the trace on,
        // without reading every block again (a trace that dropped events would mean a RESCAN).
        let authorize = try FerryProcess.run(["sandbox", "security-group", "authorize", groupID, "tcp:1500:0.0.0.0/0", "--workspace", workspace])
        #expect(authorize.status == 0, "\(authorize.stderr)")
        server = try Self.waitFor(serverID, workspace: workspace, seconds: 180) {
            ["RESCAN", "CREATING_SNAPSHOT", "CONTINUOUS", "BACKLOG", "LAGGING"].contains($0["dataReplicationState"] as? String ?? "") && Self.error($0).isEmpty
        }
        #expect(Self.error(server).isEmpty)

        // Rebooted, the service comes back and replicates on.
        _ = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--timeout", "20", "--", "systemctl reboot"])
        let after = "ferry-after-reboot-\(UUID().uuidString)"
        var active = ""
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            let check = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--timeout", "30", "--", "systemctl is-active ferry-agent"])
            active = check.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if check.status == 0, active == "active" { break }
            Thread.sleep(forTimeInterval: 5)
        }
        #expect(active == "active")
        let written = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--", "echo \(after) > /root/after.txt && sync"])
        #expect(written.status == 0)
        // One snapshot holds both: what was written while stalled and what after the reboot.
        #expect(try Self.waitForSnapshot(holding: [whileStalled, after], serverID: serverID, workspace: workspace, directory: directory, seconds: 300))

        // Uninstalled, it stops and leaves nothing behind.
        let uninstall = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--", "sh /root/ferry-installer --uninstall"])
        #expect(uninstall.status == 0, "\(uninstall.stdout)\(uninstall.stderr)")
        #expect(uninstall.stdout.contains("The Ferry replication agent was uninstalled"))
        let gone = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--",
                                         "systemctl is-active ferry-agent; ls /usr/local/lib/ferry-agent /etc/ferry-agent 2>&1 | head -2"])
        #expect(gone.stdout.contains("inactive") && gone.stdout.contains("No such file"), "\(gone.stdout)")

        // The installer's refusals: one line each, and nothing installed.
        let wrongToken = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--",
                                               "cd /root && sh ferry-installer -t not-the-token --no-prompt; echo exit=$?; ls /etc/ferry-agent 2>&1"])
        #expect(wrongToken.stdout.contains("authentication failed: the agent does not hold this project's token"), "\(wrongToken.stdout)")
        #expect(wrongToken.stdout.contains("exit=1") && wrongToken.stdout.contains("No such file"), "\(wrongToken.stdout)")
        let notRoot = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--",
                                            "cp /root/ferry-installer /tmp/ && su nobody -s /bin/sh -c 'sh /tmp/ferry-installer -t x --no-prompt'; echo exit=$?"])
        #expect(notRoot.stdout.contains("ferry installer: run it as root"), "\(notRoot.stdout)")
        #expect(notRoot.stdout.contains("exit=1"))
    }

    static func sourceServer(_ id: String, workspace: String) throws -> [String: Any] {
        let shown = try FerryProcess.run(["source", "show", id, "--workspace", workspace, "--output", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any], "\(shown.stderr)")
        return json["sourceServer"] as? [String: Any] ?? json
    }

    /// How many points in time of the server were taken after `since`.
    static func snapshotsTaken(serverID: String, workspace: String, since: Date) throws -> Int {
        let list = try FerryProcess.run(["snapshot", "list", serverID, "--workspace", workspace, "--output", "json"])
        let snapshots = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return snapshots.filter { snapshot in
            guard let taken = snapshot["takenAt"] as? String, let at = formatter.date(from: taken) ?? ISO8601DateFormatter().date(from: taken) else { return false }
            return at > since
        }.count
    }

    /// What the agent said in the guest's journal and the replication server in its log: the
    /// evidence a failed run leaves for the one who reads it.
    static func agentAndServerLogs(instance: String, runID: String, workspace: String) throws -> String {
        let journal = try FerryProcess.run(["sandbox", "run-command", instance, "--workspace", workspace, "--", "journalctl -u ferry-agent --no-pager -n 60"])
        let serverLog = URL(fileURLWithPath: workspace).appendingPathComponent("runs/\(runID)/replication-server.log")
        let server = (try? String(contentsOf: serverLog, encoding: .utf8)) ?? "(no \(serverLog.path))"
        return "the agent's journal:\n\(journal.stdout)\(journal.stderr)\nthe replication server's log (the end):\n\(server.split(separator: "\n").suffix(60).joined(separator: "\n"))"
    }

    static func error(_ server: [String: Any]) -> String {
        (server["replicationMetrics"] as? [String: Any])?["replicationError"] as? String ?? ""
    }

    static func waitFor(_ id: String, workspace: String, seconds: Double, _ condition: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try sourceServer(id, workspace: workspace)
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 2)
        }
        Issue.record("\(id) did not reach the state in \(Int(seconds)) s: \(last["dataReplicationState"] ?? "?") \(error(last))")
        return last
    }

    /// Whether a snapshot committed within `seconds` holds every one of `markers` on its disk.
    static func waitForSnapshot(holding markers: [String], serverID: String, workspace: String, directory: URL, seconds: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var seen = Set<String>()
        while Date() < deadline {
            let list = try FerryProcess.run(["snapshot", "list", serverID, "--workspace", workspace, "--output", "json"])
            let snapshots = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
            for snapshot in snapshots.prefix(1) {
                guard let id = snapshot["id"] as? String, !seen.contains(id) else { continue }
                seen.insert(id)
                let file = directory.appendingPathComponent("\(id).raw")
                defer { try? FileManager.default.removeItem(at: file) }
                let export = try FerryProcess.run(["snapshot", "export", id, "--to", file.path, "--workspace", workspace])
                guard export.status == 0 else { continue }
                if try markers.allSatisfy({ try HostTool.run("/usr/bin/grep", ["-q", "-a", "-F", $0, file.path]).status == 0 }) { return true }
            }
            Thread.sleep(forTimeInterval: 3)
        }
        return false
    }
}
