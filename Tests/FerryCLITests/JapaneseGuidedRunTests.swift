import Foundation
import Testing

/// A learner following a recipe in Japanese on a terminal: the run is driven through a
/// pseudo-terminal (so that it is guided and pauses before each step), Enter is pressed at each
/// prompt, and what is on screen is checked for English left untranslated.
@Suite("recipe run --lang ja on a terminal")
struct JapaneseGuidedRunTests {
    /// Drives `ferry ARGS` on a pseudo-terminal with python3's `pty` module: presses Enter each
    /// time the prompt ends in a space with no newline after it, and returns the screen's text.
    static let driver = #"""
import os, pty, sys, select, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
answered = 0
deadline = time.time() + 120
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    # The prompt is the only text that waits, unterminated, for an answer.
    if out.count("Enter".encode()) > answered and not out.endswith(b"\n"):
        time.sleep(0.1)
        os.write(fd, b"\r")
        answered += 1
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"""#

    /// Words that may stay in Latin letters on a Japanese screen: what the learner types or
    /// reads as a name, never as prose — the command and its subcommands (`ferry recipe status`),
    /// the keys to press (Enter, Ctrl-C), protocol and product names (VPC, HTTP, TCP, UDP, Web,
    /// QEMU), the recipe's and its steps' ids, and the names of the resources it creates
    /// (SourceVPC, source-web, …). Ids (vpc-…, sg-…, run-…), addresses, CIDRs, paths and numbers
    /// are recognised by their shape in `isName`.
    static let allowedWords: Set<String> = [
        "ferry", "recipe", "status", "destroy", "resume", "Enter", "Ctrl-C",
        "VPC", "HTTP", "TCP", "UDP", "Web",
        "SourceVPC", "StagingVPC", "TargetVPC", "migration-networks",
        "source-network", "source-web-group", "staging-network", "replication-group", "target-network", "target-web-group",
        "source-web", "replication-servers", "target-web",
    ]

    static func isName(_ word: String) -> Bool {
        if allowedWords.contains(word) { return true }
        if word.contains("/") { return true }  // a path or a CIDR
        if word.first?.isNumber == true { return true }  // numbers, addresses, durations
        // Ids: a lowercase prefix, a dash, and hex digits (vpc-0a1b…, sg-…, run-…).
        let parts = word.split(separator: "-")
        return parts.count == 2 && parts[0].allSatisfy(\.isLowercase) && parts[1].allSatisfy(\.isHexDigit) && parts[1].count >= 4
    }

    /// The runs of Latin letters (with the digits, dashes and dots inside them) on the screen
    /// that are not names.
    static func englishLeft(on screen: String) -> [String] {
        let plain = screen.replacingOccurrences(of: "\u{1B}\\[[0-9;?]*[A-Za-z]", with: "", options: .regularExpression)
        var words: [String] = []
        var current = ""
        for character in plain {
            if character.isASCII, character.isLetter || character.isNumber || "-_./:".contains(character) {
                current.append(character)
            } else {
                words.append(current)
                current = ""
            }
        }
        words.append(current)
        return words.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ".:")) }
            .filter { word in word.contains { $0.isASCII && $0.isLetter } && !isName(word) }
    }

    @Test(.timeLimit(.minutes(3)))
    func aGuidedJapaneseRunOfMigrationNetworksLeavesNoEnglishOnScreenButNames() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        let script = directory.appendingPathComponent("drive.py")
        try Self.driver.write(to: script, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, FerryProcess.executable.path,
                             "recipe", "run", "migration-networks", "--lang", "ja", "--workspace", workspace]
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let screen = String(decoding: data, as: UTF8.self)

        #expect(process.terminationStatus == 0, "\(screen)")
        // Guided: a pause before each of the six steps, each answered.
        #expect(screen.components(separatedBy: "Enter キーを押すと").count - 1 == 6, "\(screen)")
        #expect(screen.contains("ステップ 1/6: SourceVPC（移行するマシンが動くネットワーク）"))
        #expect(screen.contains("✓ 完了しました"))
        #expect(screen.contains("は成功しました。"))
        #expect(Self.englishLeft(on: screen) == [], "\(screen)")
    }

    /// The whole workshop, unattended, in Japanese: what it says on the way (the launch jobs'
    /// stages, the agent, the replication server, finalize, the summary) is Japanese too.
    @Test(.timeLimit(.minutes(5)))
    func theWorkshopInJapaneseLeavesNoEnglishOnScreenButNames() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        let result = try FerryProcess.run(["workshop", "--yes", "--lang", "ja", "--workspace", workspace], in: directory, timeoutSeconds: FerryProcess.slow)
        defer { _ = try? FerryProcess.run(["sandbox", "destroy", "--workspace", workspace]) }
        #expect(result.status == 0, "\(result.stdout.suffix(3000))\(result.stderr)")
        #expect(result.stdout.contains("ワークショップのまとめ"))
        #expect(result.stdout.contains("ステージ: 変換"))
        // The sandbox adapter's own log of building its base image (first use in a new
        // workspace) is in English, as every adapter's is: adapters know no run language.
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let start = lines.firstIndex(where: { $0.contains("ゲストイメージを Debian のパッケージから作成します") }),
           let end = lines.firstIndex(where: { $0.hasPrefix("作成しました:") }), start < end {
            lines.removeSubrange((start + 1)..<end)
        }
        let workshopNames: Set<String> = [
            "WordPress", "QEMU", "IAM", "AWS", "Linux", "SHA-256", "URL", "Debian", "Ferry", "MiB", "B", "pid", "CONTINUOUS", "READY_FOR_TEST", "READY_FOR_CUTOVER",
            "busybox", "debian-wordpress", "apache2", "MariaDB", "blog",
            "ferry-sandbox-linux", "ferry-migration", "wordpress-source", "wordpress", "workshop",
            "source-network", "source-web", "staging-network", "target-network", "target-web", "base-image", "migration-user",
            "replication-group", "replication-server", "agent", "initial-sync", "publish-post", "test-launch", "ready-for-cutover",
            "replicated-post", "cutover", "finalize",
            // The conversion's terms: the guest's tools and what a target needs, and its step.
            "conversion", "sandbox", "initramfs", "UUID", "NIC", "DHCP", "grub2", "os-release",
            // The agent's terms: the protocols it speaks and the command that shows the token.
            "TLS", "HTTPS", "root", "token", "SSH", "C",
        ]
        // An access key id (AKIA and 16 capitals or digits) is an id too.
        let left = Self.englishLeft(on: lines.joined(separator: "\n")).filter { word in
            !workshopNames.contains(word) && !(word.hasPrefix("AKIA") && word.count == 20 && word.allSatisfy { $0.isUppercase || $0.isNumber })
        }
        #expect(left == [], "\(left)")
    }

    @Test func namesIdsAddressesAndNumbersAreNotCountedAsEnglish() {
        #expect(Self.englishLeft(on: "VPC SourceVPC: vpc-0a1b2c3d 10.0.0.0/16、12.5 秒 /tmp/ws/runs/run-1234abcd/source-network.svg") == [])
        #expect(Self.englishLeft(on: "   ✓ done in 0.1 s") == ["done", "in", "s"])
    }
}
