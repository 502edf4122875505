import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A guest as a QEMU process that outlives the command which started it: `-daemonize`
/// detaches it into its own session once it has set up (so a port that cannot be bound is
/// still reported to the caller), and its pid is kept in the workspace.
struct QEMUProcess {
    struct Configuration {
        var instanceID: String
        var memoryMiB: Int
        var vCPUs: Int
        var disk: String
        var seed: String
        var consoleLog: String
        var pidFile: String
        var subnet: IPv4CIDR
        /// QEMU's virtual network: the subnet, widened to hold the service addresses.
        var network: IPv4CIDR
        var privateIP: String
        var ports: [ForwardedPort]
        var hardware: GuestHardware
        /// 127.0.0.1's port forwarded to the guest's SSH (the sandbox's Run Command).
        var managementPort: Int? = nil
        /// Guest connections to these addresses (TCP 1500) go to the relay command.
        var serviceForwards: [ServiceForward] = []
        /// QEMU's machine protocol (QMP), for the agentless agent's write tracking.
        var monitorSocket: String? = nil
    }

    /// Where the QMP socket of the instance in `folder` is: in the folder when the path fits
    /// a Unix socket's 108 bytes, else under /tmp by a digest of the folder (deep workspaces).
    static func monitorSocket(instanceFolder folder: URL) -> String {
        let inFolder = folder.appendingPathComponent("qmp.sock").path
        if inFolder.utf8.count < 100 { return inFolder }
        let digest = SHA256.hash(data: Data(folder.path.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        return "/tmp/ferry-qmp-\(digest).sock"
    }

    /// A service address the guest may connect to, and the command QEMU starts for each
    /// connection (`ferry sandbox relay`), with the connection as its standard input and output.
    struct ServiceForward {
        var address: String
        var port: Int
        var command: String
    }

    static func executable() throws -> String {
        try HostCommand.require("qemu-system-x86_64", package: "qemu-system-x86", purpose: "run sandbox instances")
    }

    static func arguments(_ c: Configuration) -> [String] {
        func escaped(_ path: String) -> String { path.replacingOccurrences(of: ",", with: ",,") }
        // restrict=on: the guest reaches nothing on this machine or beyond but what is
        // forwarded below (before, it reached every port of 127.0.0.1 through the gateway).
        var netdev = "user,id=n0,restrict=on,net=\(c.network),host=\(IPv4CIDR.format(c.subnet.address(at: 1))),dns=\(IPv4CIDR.format(c.subnet.address(at: 2))),dhcpstart=\(c.privateIP)"
        for port in c.ports {
            netdev += ",hostfwd=tcp:127.0.0.1:\(port.hostPort)-:\(port.guestPort)"
        }
        if let management = c.managementPort, !c.ports.contains(where: { $0.guestPort == 22 }) {
            netdev += ",hostfwd=tcp:127.0.0.1:\(management)-:22"
        }
        for forward in c.serviceForwards {
            netdev += ",guestfwd=tcp:\(forward.address):\(forward.port)-cmd:\(forward.command.replacingOccurrences(of: ",", with: ",,"))"
        }
        return [
            "-name", c.instanceID,
            "-accel", "tcg,tb-size=64",
            "-m", "\(c.memoryMiB)",
            "-smp", "\(c.vCPUs)",
            "-nodefaults", "-no-user-config", "-display", "none",
            "-chardev", "file,id=console,path=\(escaped(c.consoleLog)),append=on",
            "-serial", "chardev:console",
            "-netdev", netdev,
            "-device", "\(c.hardware.nicModel.qemuDevice),netdev=n0",
        ] + diskArguments(c.hardware.diskBus, disk: escaped(c.disk), seed: escaped(c.seed)) + monitorArguments(c.monitorSocket.map(escaped)) + [
            "-daemonize", "-pidfile", c.pidFile,
        ]
    }

    /// The root disk on the image's controller, which the BIOS boots, and the seed disk (the
    /// instance's meta-data and user data) on virtio-blk whatever the controller. The seed
    /// must not share the root's controller: the kernel probes SCSI targets and NVMe
    /// controllers asynchronously, so a seed beside the root may take its name (`sda`) and a
    /// guest whose fstab says /dev/sda1, as a VMware VM's does, would not find its root.
    /// The guest finds the seed by its label, and loads virtio_blk for it from its root.
    static func diskArguments(_ bus: GuestHardware.DiskBus, disk: String, seed: String) -> [String] {
        let seedDrive = ["-drive", "file=\(seed),if=virtio,format=raw,readonly=on"]
        switch bus {
        case .virtio:
            return ["-drive", "file=\(disk),if=virtio,format=qcow2"] + seedDrive
        case .pvscsi:
            return [
                "-device", "pvscsi,id=scsi0",
                "-drive", "file=\(disk),if=none,id=root,format=qcow2",
                "-device", "scsi-hd,drive=root,bus=scsi0.0,scsi-id=0,bootindex=0",
            ] + seedDrive
        case .nvme:
            return [
                "-drive", "file=\(disk),if=none,id=root,format=qcow2",
                "-device", "nvme,drive=root,serial=ferry-root,bootindex=0",
            ] + seedDrive
        }
    }

    /// A QMP monitor on a Unix socket, listening without waiting for a client.
    static func monitorArguments(_ socket: String?) -> [String] {
        guard let socket else { return [] }
        return ["-chardev", "socket,id=monitor,path=\(socket),server=on,wait=off", "-mon", "chardev=monitor,mode=control"]
    }

    /// Starts the guest and returns its pid once QEMU has detached.
    static func start(_ configuration: Configuration) throws -> Int32 {
        let qemu = try executable()
        try? FileManager.default.removeItem(atPath: configuration.pidFile)
        let result = try HostCommand.run(qemu, arguments(configuration))
        guard result.status == 0 else {
            if result.output.contains("host forwarding rule"), let port = configuration.ports.first(where: { result.output.contains("127.0.0.1:\($0.hostPort)-") }) {
                throw SandboxError.hostPortTaken(port: port.hostPort, instanceID: configuration.instanceID)
            }
            throw SandboxError.qemuFailed(instanceID: configuration.instanceID, output: result.output)
        }
        guard let text = try? String(contentsOfFile: configuration.pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SandboxError.qemuFailed(instanceID: configuration.instanceID, output: "QEMU wrote no pid file at \(configuration.pidFile)")
        }
        return pid
    }

    /// Whether `pid` is still the QEMU process of `instanceID` (a pid can be reused).
    static func isAlive(pid: Int32, instanceID: String) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).contains(instanceID)
    }

    /// Asks QEMU to quit (SIGTERM), then kills it if it has not within `grace` seconds.
    static func stop(pid: Int32, instanceID: String, grace: Double = 10) {
        guard isAlive(pid: pid, instanceID: instanceID) else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            if !isAlive(pid: pid, instanceID: instanceID) { return }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        for _ in 0..<50 where isAlive(pid: pid, instanceID: instanceID) { usleep(100_000) }
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    static func freeLocalPort(avoiding taken: Set<Int>) throws -> Int {
        for _ in 0..<50 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { break }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { continue }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            let port = Int(UInt16(bigEndian: address.sin_port))
            if !taken.contains(port) { return port }
        }
        throw SandboxError.qemuFailed(instanceID: "-", output: "no free TCP port on 127.0.0.1")
    }

    /// Whether a listener could bind 127.0.0.1:`port` now.
    static func isLocalPortFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
