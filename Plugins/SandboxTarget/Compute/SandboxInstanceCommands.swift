import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The sandbox's Run Command: a command run as root inside an instance over SSH, with a key
/// the sandbox makes once and gives every instance in its meta-data (`public-keys`), on a
/// port of 127.0.0.1 forwarded to the guest's port 22 whatever the security groups say, as
/// AWS Systems Manager reaches an instance without an inbound rule. OpenSSH's own client and
/// key generator do the work: nothing here speaks SSH by hand.
extension SandboxCloud {
    var managementKeyFile: URL { directory.appendingPathComponent("ssh/ferry-sandbox-key") }

    /// The key (made on first use) and its public half, one line as authorized_keys takes it.
    func managementKey() throws -> (privateKey: URL, publicKey: String) {
        let file = managementKeyFile
        if !FileManager.default.fileExists(atPath: file.path) {
            let keygen = try HostCommand.require("ssh-keygen", package: "openssh-client", purpose: "make the key the sandbox logs into its instances with")
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let staged = file.deletingLastPathComponent().appendingPathComponent(".key-\(getpid())")
            try? FileManager.default.removeItem(at: staged)
            try? FileManager.default.removeItem(atPath: staged.path + ".pub")
            try HostCommand.check(keygen, ["-q", "-t", "ed25519", "-N", "", "-C", "ferry-sandbox", "-f", staged.path])
            try FileManager.default.moveItem(atPath: staged.path + ".pub", toPath: file.path + ".pub")
            try FileManager.default.moveItem(at: staged, to: file)
        }
        let publicKey = try String(contentsOfFile: file.path + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (file, publicKey)
    }

    /// What QEMU forwards for a guest: each subnet's service address on TCP 1500, to the relay
    /// command of the `ferry` that runs now (none when Ferry runs as something else, a test
    /// runner: the guest then reaches no service endpoint, and says so by timing out).
    ///
    /// QEMU forwards only addresses of the guest's own virtual network, so that network is
    /// widened from the guest's subnet to hold the service addresses too (the guest's DHCP
    /// netmask widens with it; a guest with a static address routes them through its
    /// gateway, which is QEMU's too). It stops at a /8: a service in a subnet outside the
    /// guest's /8 is not reachable from it.
    func serviceForwards(for instanceID: String, subnet: IPv4CIDR) throws -> (network: IPv4CIDR, forwards: [QEMUProcess.ServiceForward]) {
        guard let ferry = Self.relayExecutable else { return (subnet, []) }
        var network = subnet
        var reachable: [String] = []
        for address in try serviceAddresses() {
            guard let value = IPv4CIDR.parseAddress(address), let wider = network.widened(toHold: value, widest: 8) else { continue }
            network = wider
            reachable.append(address)
        }
        return (network, reachable.map { address in
            QEMUProcess.ServiceForward(address: address, port: Self.servicePort, command: [
                ferry, "sandbox", "relay", "--sandbox", directory.path, "--from", instanceID, "--to", "\(address):\(Self.servicePort)",
            ].map(Self.shellQuoted).joined(separator: " "))
        })
    }

    /// The `ferry` executable whose `sandbox relay` QEMU starts: FERRY_EXECUTABLE, or this
    /// process when it is ferry.
    static var relayExecutable: String? {
        if let named = ProcessInfo.processInfo.environment["FERRY_EXECUTABLE"], !named.isEmpty { return named }
        guard let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
              URL(fileURLWithPath: me).lastPathComponent == "ferry" else { return nil }
        return me
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Why the sandbox cannot run commands in `instanceID`, or nil when it can.
    public func whyCannotRunCommands(instanceID: String) throws -> String? {
        let record = try refreshed(instanceID)
        guard record.instanceState == .running else { return "it is \(record.instanceState.rawValue)" }
        guard record.managementPort != nil else { return "it was launched before the sandbox had its Run Command; launch it again" }
        let image = try? imageRecord(record.imageID)
        if let profile = image.flatMap({ JSONText.decode(ResourceTags.self, $0.tags)?[Self.profileTag] }), profile == GuestProfile.busybox.rawValue {
            return "the busybox guest has no SSH server and no C library for the agent"
        }
        return nil
    }

    /// Runs `command` as root in a running instance and returns its exit status; each line
    /// of output goes to `output`. A guest that is up but whose SSH server is not yet (it
    /// starts last in a Debian boot) is tried again for up to two minutes.
    public func runCommand(instanceID: String, command: String, input: String? = nil, timeoutSeconds: Int,
                           output: @escaping @Sendable (String) -> Void) throws -> InstanceCommandResult {
        if let reason = try whyCannotRunCommands(instanceID: instanceID) {
            throw SandboxError.commandFailed(command: "run a command in \(instanceID)", status: -1, output: "it cannot run commands: \(reason)")
        }
        let deadline = Date().addingTimeInterval(120)
        while true {
            let attempt = try runOverSSH(instanceID: instanceID, command: command, input: input, timeoutSeconds: timeoutSeconds, output: output)
            // ssh says 255 for its own failures; a guest still starting resets or refuses the connection.
            let unreachable = attempt.result.exitStatus == 255 && attempt.sshFailure
            guard unreachable, Date() < deadline else {
                for line in attempt.held { output(line) }
                return attempt.result
            }
            Thread.sleep(forTimeInterval: 3)
        }
    }

    private func runOverSSH(instanceID: String, command: String, input: String?, timeoutSeconds: Int,
                            output: @escaping @Sendable (String) -> Void) throws -> (result: InstanceCommandResult, sshFailure: Bool, held: [String]) {
        let record = try refreshed(instanceID)
        guard let port = record.managementPort else {
            throw SandboxError.commandFailed(command: "run a command in \(instanceID)", status: -1,
                                             output: "the instance was launched before the sandbox had its Run Command; launch it again")
        }
        let ssh = try HostCommand.require("ssh", package: "openssh-client", purpose: "run commands in sandbox instances")
        let key = try managementKey().privateKey
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ssh)
        process.arguments = ["-i", key.path, "-p", String(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                             "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20",
                             "-o", "ServerAliveInterval=10", "root@127.0.0.1", "--", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data((input + "\n").utf8))
            try? stdin.fileHandleForWriting.close()
        }
        let timedOut = TimeoutFlag()
        let watchdog = DispatchWorkItem { if process.isRunning { timedOut.set(); process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(timeoutSeconds), execute: watchdog)
        defer { watchdog.cancel() }
        var tail: [String] = []
        var held: [String] = []
        var connected = false
        var pending = Data()
        let handle = pipe.fileHandleForReading
        func take(_ line: String) {
            // Until the first line that is not ssh's own complaint, hold lines back: a failed
            // connection is tried again, and its words are not the command's output.
            if !connected, Self.isSSHConnectionFailure(line) {
                held.append(line)
            } else {
                connected = true
                for early in held { output(early) }
                held.removeAll()
                output(line)
            }
            tail.append(line)
            if tail.count > 20 { tail.removeFirst() }
        }
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                take(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { take(String(decoding: pending, as: UTF8.self)) }
        process.waitUntilExit()
        if timedOut.isSet {
            throw SandboxError.commandFailed(command: command, status: -1, output: "it did not finish within \(timeoutSeconds) s in \(instanceID)")
        }
        let result = InstanceCommandResult(exitStatus: process.terminationStatus, outputTail: tail.joined(separator: "\n"))
        return (result, !connected && !held.isEmpty, held)
    }

    static func isSSHConnectionFailure(_ line: String) -> Bool {
        ["kex_exchange_identification", "Connection reset by peer", "Connection refused", "Connection closed by", "Connection timed out",
         "ssh_exchange_identification", "banner exchange", "Permission denied (publickey"].contains { line.contains($0) }
    }
}

private final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

extension SandboxTargetAdapter: InstanceCommandCapability {
    public func whyCannotRunCommands(instanceID: String) async throws -> String? {
        try await onCloud { try $0.whyCannotRunCommands(instanceID: instanceID) }
    }

    public func runCommand(instanceID: String, command: String, input: String?, timeoutSeconds: Int,
                           output: @escaping @Sendable (String) -> Void) async throws -> InstanceCommandResult {
        try await onCloud { try $0.runCommand(instanceID: instanceID, command: command, input: input, timeoutSeconds: timeoutSeconds, output: output) }
    }
}
