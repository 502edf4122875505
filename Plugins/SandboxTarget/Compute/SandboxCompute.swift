import FerryCore
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// Instances: a QEMU process per running instance, booting a qcow2 overlay on its image's
/// root volume (the image never changes), with a seed disk carrying its meta-data and user
/// data. States come from the real process and the markers on its serial console.
extension SandboxCloud {
    static let defaultVPCCIDR = "172.31.0.0/16"
    static let defaultSubnetCIDR = "172.31.0.0/20"
    /// Well-known ports forwarded when a rule opens a range too wide to forward port by port.
    static let wellKnownPorts = [22, 80, 443, 1500, 3306, 8080]
    static let bootReadyMarker = "FERRY-BOOT-READY"
    static let firstBootMarker = "FERRY-FIRST-BOOT"

    public func launchInstance(imageID: String, settings: LaunchSettings = LaunchSettings(), userData: String? = nil, name: String? = nil) throws -> Instance {
        let type = try InstanceType.named(settings.instanceType)
        _ = try QEMUProcess.executable()
        let qemuImg = try HostCommand.require("qemu-img", package: "qemu-utils", purpose: "create instance disks")
        let mke2fs = try HostCommand.require("mke2fs", package: "e2fsprogs", purpose: "write the instance's seed disk")
        let image = try imageRecord(imageID)
        guard type.memoryMiB >= image.minimumMemoryMiB else {
            let enough = InstanceType.all.filter { $0.memoryMiB >= image.minimumMemoryMiB }.map(\.name)
            throw SandboxError.instanceTypeTooSmall(type: type.name, memoryMiB: type.memoryMiB, image: image.name, needsMiB: image.minimumMemoryMiB, enough: enough)
        }
        guard let rootVolumeID = image.volumeIDList.first else {
            throw SandboxError.invalidName(field: "image", value: imageID, reason: "has no root volume")
        }
        let rootPath = try volumePath(rootVolumeID)
        let id = ResourceID.make(prefix: "i")

        // Reserve the address and the ports, and record the instance, in one transaction.
        var record = try database.write { db -> InstanceRecord in
            let subnet = try settings.subnetID.map { try Self.subnet($0, in: db) } ?? Self.defaultSubnet(in: db)
            let groupIDs = settings.securityGroupIDs.isEmpty ? [try Self.defaultSecurityGroup(vpcID: subnet.vpcID, in: db).id] : settings.securityGroupIDs
            var guestPorts = Set<Int>()
            for groupID in groupIDs {
                guard let group = try SecurityGroupRecord.fetchOne(db, key: groupID) else { throw SandboxError.notFound(kind: .securityGroup, id: groupID) }
                guard group.vpcID == subnet.vpcID else {
                    throw SandboxError.wrongVPC(resource: groupID, resourceVPC: group.vpcID, expectedVPC: subnet.vpcID)
                }
                guestPorts.formUnion(Self.forwardedGuestPorts(group.rules))
            }
            let live = try InstanceRecord.filter(Column("state") != InstanceState.terminated.rawValue).fetchAll(db)
            // A VMware-shaped guest keeps the static address it was built with, when the subnet
            // holds it: on VMware it would have it too, and it answers nowhere else.
            var policy = settings.privateIPPolicy
            if policy == .automatic, let address = image.staticAddress, let value = IPv4CIDR.parseAddress(address),
               (try? IPv4CIDR(subnet.cidrBlock))?.contains(address: value) == true {
                policy = .fixed(address)
            }
            let ip = try Self.allocateAddress(in: subnet, policy: policy, live: live)
            var taken = Set(live.flatMap { $0.portList.map(\.hostPort) })
            var ports: [ForwardedPort] = []
            for guestPort in guestPorts.sorted() {
                let hostPort = try QEMUProcess.freeLocalPort(avoiding: taken)
                taken.insert(hostPort)
                ports.append(ForwardedPort(guestPort: guestPort, hostPort: hostPort))
            }
            let managementPort = try ports.first(where: { $0.guestPort == 22 })?.hostPort ?? QEMUProcess.freeLocalPort(avoiding: taken)
            let record = InstanceRecord(
                id: id, name: name, imageID: imageID, instanceType: type.name, state: InstanceState.pending.rawValue,
                stateReason: nil, subnetID: subnet.id, privateIP: ip, securityGroupIDs: JSONText.encode(groupIDs),
                ports: JSONText.encode(ports), tags: tagsText(settings.tags), pid: nil, consoleOffset: 0,
                firstBoot: FirstBootStatus.pending.rawValue, launchedAt: Date(), managementPort: managementPort
            )
            try record.insert(db)
            return record
        }

        let folder = instanceDirectory(id)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try HostCommand.check(qemuImg, ["create", "-q", "-f", "qcow2", "-b", rootPath, "-F", "raw", folder.appendingPathComponent("disk.qcow2").path])
            let seed = folder.appendingPathComponent("seed", isDirectory: true)
            try FileManager.default.createDirectory(at: seed, withIntermediateDirectories: true)
            var metaData = "instance-id: \(id)\nlocal-hostname: \(Self.hostname(name: name, ip: record.privateIP ?? id))\n"
            metaData += "instance-type: \(type.name)\nlocal-ipv4: \(record.privateIP ?? "")\n"
            // The sandbox's own key, for its Run Command: an image that honours the seed
            // (ferry-guest, cloud-init) lets it in as root.
            if let key = try? managementKey().publicKey { metaData += "public-keys: \(key)\n" }
            try Data(metaData.utf8).write(to: seed.appendingPathComponent("meta-data"))
            try Data((userData ?? "").utf8).write(to: seed.appendingPathComponent("user-data"))
            try HostCommand.check(mke2fs, ["-q", "-F", "-t", "ext2", "-L", "cidata", "-d", seed.path, folder.appendingPathComponent("seed.raw").path, "2048k"])
            try? FileManager.default.removeItem(at: seed)
            do {
                try boot(&record, memoryMiB: type.memoryMiB, vCPUs: type.vCPUs)
            } catch SandboxError.hostPortTaken {
                // Another program took a chosen port between the choice and QEMU's bind: choose again, once.
                try rechoosePorts(&record)
                try boot(&record, memoryMiB: type.memoryMiB, vCPUs: type.vCPUs)
            }
            return record.model
        } catch {
            // Nothing left running or half-recorded.
            if let pid = record.pid { QEMUProcess.stop(pid: Int32(pid), instanceID: id, grace: 0) }
            try? FileManager.default.removeItem(at: folder)
            _ = try? database.write { db in try InstanceRecord.deleteOne(db, key: id) }
            throw error
        }
    }

    private func rechoosePorts(_ record: inout InstanceRecord) throws {
        let id = record.id
        record = try database.write { db in
            guard var current = try InstanceRecord.fetchOne(db, key: id) else { throw SandboxError.notFound(kind: .instance, id: id) }
            let others = try InstanceRecord.filter(Column("state") != InstanceState.terminated.rawValue && Column("id") != id).fetchAll(db)
            var taken = Set(others.flatMap { $0.portList.map(\.hostPort) } + current.portList.map(\.hostPort))
            var ports: [ForwardedPort] = []
            for port in current.portList {
                let hostPort = try QEMUProcess.freeLocalPort(avoiding: taken)
                taken.insert(hostPort)
                ports.append(ForwardedPort(guestPort: port.guestPort, hostPort: hostPort))
            }
            current.ports = JSONText.encode(ports)
            try current.update(db)
            return current
        }
    }

    /// Starts QEMU for `record` and records its pid.
    private func boot(_ record: inout InstanceRecord, memoryMiB: Int, vCPUs: Int) throws {
        let folder = instanceDirectory(record.id)
        let console = folder.appendingPathComponent("console.log").path
        let consoleSize = (try? FileManager.default.attributesOfItem(atPath: console)[.size] as? Int) ?? 0
        guard let subnetID = record.subnetID, let ip = record.privateIP else {
            throw SandboxError.qemuFailed(instanceID: record.id, output: "the instance has no subnet or address")
        }
        let subnet = try database.read { db in try Self.subnet(subnetID, in: db) }
        let hardware = try imageRecord(record.imageID).hardware
        let services = try serviceForwards(for: record.id, subnet: try IPv4CIDR(subnet.cidrBlock))
        let pid = try QEMUProcess.start(.init(
            instanceID: record.id, memoryMiB: memoryMiB, vCPUs: vCPUs,
            disk: folder.appendingPathComponent("disk.qcow2").path, seed: folder.appendingPathComponent("seed.raw").path,
            consoleLog: console, pidFile: folder.appendingPathComponent("qemu.pid").path,
            subnet: try IPv4CIDR(subnet.cidrBlock), network: services.network, privateIP: ip, ports: record.portList, hardware: hardware,
            managementPort: record.managementPort, serviceForwards: services.forwards,
            monitorSocket: QEMUProcess.monitorSocket(instanceFolder: folder)
        ))
        record.pid = Int64(pid)
        record.consoleOffset = Int64(consoleSize)
        record.state = InstanceState.pending.rawValue
        record.stateReason = nil
        let updated = record
        try database.write { db in try updated.update(db) }
    }

    public func describeInstance(id: String) throws -> Instance {
        try refreshed(id).model
    }

    public func describeInstances() throws -> [Instance] {
        try instanceRecords().map(\.model)
    }

    /// Every instance with its live state, oldest first.
    func instanceRecords() throws -> [InstanceRecord] {
        let ids = try database.read { db in try InstanceRecord.order(Column("launchedAt")).fetchAll(db).map(\.id) }
        return try ids.map { try refreshed($0) }
    }

    /// The ports of an instance forwarded to 127.0.0.1, and why it is in its state.
    public func instanceDetails(id: String) throws -> (ports: [ForwardedPort], stateReason: String?, name: String?) {
        let record = try refreshed(id)
        return (record.portList, record.stateReason, record.name)
    }

    public func stopInstance(id: String) throws -> Instance {
        var record = try refreshed(id)
        switch record.instanceState {
        case .stopped: return record.model
        case .pending, .running: break
        default: throw SandboxError.invalidState(instanceID: id, state: record.instanceState, action: "stop")
        }
        record.state = InstanceState.stopping.rawValue
        let stopping = record
        try database.write { db in try stopping.update(db) }
        if let pid = record.pid { QEMUProcess.stop(pid: Int32(pid), instanceID: id) }
        record.state = InstanceState.stopped.rawValue
        record.stateReason = "User initiated"
        record.pid = nil
        let stopped = record
        try database.write { db in try stopped.update(db) }
        return record.model
    }

    public func startInstance(id: String) throws -> Instance {
        var record = try refreshed(id)
        switch record.instanceState {
        case .pending, .running: return record.model
        case .stopped: break
        default: throw SandboxError.invalidState(instanceID: id, state: record.instanceState, action: "start")
        }
        for port in record.portList where !QEMUProcess.isLocalPortFree(port.hostPort) {
            throw SandboxError.hostPortTaken(port: port.hostPort, instanceID: id)
        }
        let type = try InstanceType.named(record.instanceType)
        try boot(&record, memoryMiB: type.memoryMiB, vCPUs: type.vCPUs)
        return record.model
    }

    /// Stops the process and frees the instance's ports and files; the record stays, terminated.
    public func terminateInstance(id: String) throws -> Instance {
        var record = try refreshed(id)
        if record.instanceState == .terminated { return record.model }
        record.state = InstanceState.shuttingDown.rawValue
        let shuttingDown = record
        try database.write { db in try shuttingDown.update(db) }
        if let pid = record.pid { QEMUProcess.stop(pid: Int32(pid), instanceID: id, grace: 3) }
        try? FileManager.default.removeItem(at: instanceDirectory(id))
        record.state = InstanceState.terminated.rawValue
        record.stateReason = record.stateReason ?? "User initiated"
        record.pid = nil
        record.ports = JSONText.encode([ForwardedPort]())
        let terminated = record
        try database.write { db in try terminated.update(db) }
        return record.model
    }

    public func firstBootStatus(id: String) throws -> FirstBootStatus {
        FirstBootStatus(rawValue: try refreshed(id).firstBoot) ?? .unknown
    }

    /// Waits until the guest reports its first boot. On a timeout or a dead process the
    /// instance is terminated and the error carries the console's last lines.
    @discardableResult
    public func waitForFirstBoot(id: String, timeout: TimeInterval = 180) throws -> FirstBootStatus {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let record = try refreshed(id)
            let status = FirstBootStatus(rawValue: record.firstBoot) ?? .unknown
            if status == .succeeded || status == .failed { return status }
            if record.instanceState == .stopped || record.instanceState == .terminated {
                let tail = consoleTail(id)
                _ = try? terminateInstance(id: id)
                throw SandboxError.processDied(instanceID: id, consoleTail: tail)
            }
            if let reason = bootFailure(record) {
                let tail = consoleTail(id)
                _ = try? terminateInstance(id: id)
                throw GuestCannotBoot(instanceID: id, reason: reason + "; it was terminated", consoleTail: tail)
            }
            if Date() >= deadline {
                let tail = consoleTail(id)
                _ = try? terminateInstance(id: id)
                throw SandboxError.firstBootTimeout(instanceID: id, seconds: Int(timeout), consoleTail: tail)
            }
            usleep(250_000)
        }
    }

    /// Waits until the guest has finished booting (its boot scripts ran) this time.
    public func waitUntilRunning(id: String, timeout: TimeInterval = 180) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try refreshed(id).instanceState != .running {
            let record = try refreshed(id)
            if record.instanceState != .pending {
                throw SandboxError.processDied(instanceID: id, consoleTail: consoleTail(id))
            }
            if Date() >= deadline {
                throw SandboxError.firstBootTimeout(instanceID: id, seconds: Int(timeout), consoleTail: consoleTail(id))
            }
            usleep(250_000)
        }
    }

    public func endpoint(instanceID: String, port: Int) throws -> InstanceEndpoint {
        let record = try refreshed(instanceID)
        guard let forwarded = record.portList.first(where: { $0.guestPort == port }) else {
            throw SandboxError.portNotForwarded(instanceID: instanceID, port: port, forwarded: record.portList.map(\.guestPort))
        }
        return InstanceEndpoint(host: "127.0.0.1", port: forwarded.hostPort)
    }

    /// Everything the guest printed on its serial console, across boots.
    public func consoleOutput(id: String) throws -> String {
        _ = try instanceRecord(id)
        let path = instanceDirectory(id).appendingPathComponent("console.log").path
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return Self.printable(String(decoding: data, as: UTF8.self))
    }

    func consoleTail(_ id: String, lines: Int = 20) -> String {
        let text = (try? consoleOutput(id: id)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// A raw copy of a stopped instance's disk (image plus what the guest wrote), as a staging
    /// snapshot of it would hold.
    public func exportDisk(instanceID: String, to path: String) throws {
        let record = try refreshed(instanceID)
        guard record.instanceState == .stopped else {
            throw SandboxError.invalidState(instanceID: instanceID, state: record.instanceState, action: "export the disk of")
        }
        let qemuImg = try HostCommand.require("qemu-img", package: "qemu-utils", purpose: "export instance disks")
        try HostCommand.check(qemuImg, ["convert", "-O", "raw", instanceDirectory(instanceID).appendingPathComponent("disk.qcow2").path, path])
    }

    /// Terminates every instance and removes every sandbox resource and file of the workspace.
    public func destroy() throws -> Int {
        let records = try instanceRecords()
        for record in records where record.instanceState != .terminated {
            _ = try terminateInstance(id: record.id)
        }
        let count = try database.write { db -> Int in
            var count = 0
            for table in ["sandboxInstance", "sandboxImage", "sandboxVolume", "sandboxAccessKey", "sandboxUserPolicy", "sandboxUser",
                          "sandboxSecurityGroup", "sandboxRouteTable", "sandboxInternetGateway", "sandboxSubnet", "sandboxVPC"] {
                try db.execute(sql: "DELETE FROM \(table)")
                count += db.changesCount
            }
            return count
        }
        // Every file but the open database, which now holds no record.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where !Self.isDatabaseFile(name) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        try createFolders()
        return count
    }

    // MARK: State from the process

    func instanceRecord(_ id: String) throws -> InstanceRecord {
        let record = try database.read { db in try InstanceRecord.fetchOne(db, key: id) }
        guard let record else { throw SandboxError.notFound(kind: .instance, id: id) }
        return record
    }

    /// The record with its state brought in line with the process and the console.
    func refreshed(_ id: String) throws -> InstanceRecord {
        var record = try instanceRecord(id)
        let original = record
        let state = record.instanceState
        if [.pending, .running, .stopping, .shuttingDown].contains(state) {
            let alive = record.pid.map { QEMUProcess.isAlive(pid: Int32($0), instanceID: id) } ?? false
            if !alive, state == .shuttingDown {
                // A terminate that was interrupted: finish it.
                try? FileManager.default.removeItem(at: instanceDirectory(id))
                record.state = InstanceState.terminated.rawValue
                record.ports = JSONText.encode([ForwardedPort]())
                record.pid = nil
            } else if !alive, state == .stopping {
                record.state = InstanceState.stopped.rawValue
                record.pid = nil
            } else if !alive {
                record.state = InstanceState.stopped.rawValue
                record.stateReason = "the QEMU process exited unexpectedly"
                record.pid = nil
            } else if state == .pending || state == .running {
                let console = readConsole(id)
                if record.firstBoot == FirstBootStatus.pending.rawValue {
                    if console.contains("\(Self.firstBootMarker) SUCCEEDED \(id)") { record.firstBoot = FirstBootStatus.succeeded.rawValue }
                    if console.contains("\(Self.firstBootMarker) FAILED \(id)") { record.firstBoot = FirstBootStatus.failed.rawValue }
                }
                let offset = min(Int(record.consoleOffset), console.utf8.count)
                let sinceBoot = String(decoding: Array(console.utf8)[offset...], as: UTF8.self)
                if state == .pending, sinceBoot.contains("\(Self.bootReadyMarker) \(id)") {
                    record.state = InstanceState.running.rawValue
                }
            }
        }
        if record.state != original.state || record.firstBoot != original.firstBoot || record.pid != original.pid {
            let changed = record
            try database.write { db in try changed.update(db) }
        }
        return record
    }

    /// What the console of this boot says that no waiting will mend: an initramfs that gave
    /// up on its root and dropped to a shell, a kernel panic.
    func bootFailure(_ record: InstanceRecord) -> String? {
        let console = readConsole(record.id)
        let offset = min(Int(record.consoleOffset), console.utf8.count)
        let sinceBoot = String(decoding: Array(console.utf8)[offset...], as: UTF8.self)
        let fatal = [
            ("Dropping to a shell", "the initramfs did not find the root file system"),
            ("ferry initramfs: cannot mount root", "the initramfs did not find the root file system"),
            ("Kernel panic", "the kernel panicked"),
        ]
        return fatal.first { sinceBoot.contains($0.0) }?.1
    }

    func readConsole(_ id: String) -> String {
        let path = instanceDirectory(id).appendingPathComponent("console.log").path
        return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The console without the terminal escape sequences GRUB prints.
    static func printable(_ text: String) -> String {
        var output = ""
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\u{1B}" {
                // Skip CSI sequences: ESC [ params final-byte.
                if let next = iterator.next(), next == "[" {
                    while let c = iterator.next(), !(0x40...0x7E).contains(c.value) {}
                }
                continue
            }
            if scalar == "\r" { continue }
            output.unicodeScalars.append(scalar)
        }
        return output
    }

    // MARK: Placement

    static func hostname(name: String?, ip: String) -> String {
        let cleaned = (name ?? "").lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let candidate = String(cleaned).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return candidate.isEmpty ? "ip-" + ip.replacingOccurrences(of: ".", with: "-") : String(candidate.prefix(63))
    }

    static func forwardedGuestPorts(_ rules: [IngressRule]) -> Set<Int> {
        var ports = Set<Int>()
        for rule in rules where rule.ipProtocol == .tcp || rule.ipProtocol == .all {
            let range = rule.ipProtocol == .all ? 0...65535 : rule.fromPort...rule.toPort
            if range.count <= 16 {
                ports.formUnion(range.filter { $0 > 0 })
            } else {
                ports.formUnion(wellKnownPorts.filter(range.contains))
            }
        }
        return ports
    }

    /// The first free address of the subnet (a cloud reserves the first four and the last;
    /// the sandbox keeps the one before the last for a service endpoint), or the requested
    /// one, checked.
    static func allocateAddress(in subnet: SubnetRecord, policy: PrivateIPPolicy, live: [InstanceRecord]) throws -> String {
        let cidr = try IPv4CIDR(subnet.cidrBlock)
        let used = Dictionary(live.compactMap { record in record.privateIP.map { ($0, record.id) } }, uniquingKeysWith: { first, _ in first })
        func usable(_ address: UInt32) -> Bool { address >= cidr.address(at: 4) && address < SandboxCloud.serviceAddress(of: cidr) }
        if case .fixed(let text) = policy {
            guard let address = IPv4CIDR.parseAddress(text) else { throw SandboxError.invalidCIDR(text, reason: "not an IPv4 address") }
            guard cidr.contains(address: address) else {
                throw SandboxError.privateIPOutsideSubnet(ip: text, subnetID: subnet.id, cidr: subnet.cidrBlock)
            }
            guard usable(address) else { throw SandboxError.privateIPReserved(ip: text, subnetID: subnet.id) }
            let normalized = IPv4CIDR.format(address)
            if let owner = used[normalized] { throw SandboxError.privateIPInUse(ip: normalized, instanceID: owner) }
            return normalized
        }
        var address = cidr.address(at: 4)
        while address < SandboxCloud.serviceAddress(of: cidr) {
            let text = IPv4CIDR.format(address)
            if used[text] == nil { return text }
            address += 1
        }
        throw SandboxError.subnetFull(subnetID: subnet.id)
    }

    /// The default VPC's first subnet, created on first use like a cloud account's default VPC.
    static func defaultSubnet(in db: Database) throws -> SubnetRecord {
        let vpc: VPCRecord
        if let existing = try VPCRecord.filter(Column("isDefault") == true).fetchOne(db) {
            vpc = existing
        } else {
            vpc = VPCRecord(id: ResourceID.make(prefix: "vpc"), cidrBlock: defaultVPCCIDR, isDefault: true, tags: tagsText(["Name": "default"]), createdAt: Date())
            try vpc.insert(db)
        }
        if let subnet = try SubnetRecord.filter(Column("vpcID") == vpc.id).order(Column("createdAt")).fetchOne(db) {
            return subnet
        }
        let subnet = SubnetRecord(id: ResourceID.make(prefix: "subnet"), vpcID: vpc.id, cidrBlock: defaultSubnetCIDR, availabilityZone: "sandbox-1a", tags: tagsText(["Name": "default"]), createdAt: Date())
        try subnet.insert(db)
        return subnet
    }

    /// The VPC's group named `default`; in the sandbox it opens SSH and HTTP so that a
    /// hands-on launch answers without any setup.
    static func defaultSecurityGroup(vpcID: String, in db: Database) throws -> SecurityGroupRecord {
        if let group = try SecurityGroupRecord.filter(Column("vpcID") == vpcID && Column("name") == "default").fetchOne(db) {
            return group
        }
        let group = SecurityGroupRecord(
            id: ResourceID.make(prefix: "sg"), vpcID: vpcID, name: "default", groupDescription: "default VPC security group",
            ingress: JSONText.encode([IngressRule.tcp(22), IngressRule.tcp(80)]), tags: tagsText([:]), createdAt: Date()
        )
        try group.insert(db)
        return group
    }
}

extension SandboxTargetAdapter: ComputeCapability {
    public func launchInstance(imageID: String, settings: LaunchSettings, userData: String?, name: String?) async throws -> Instance {
        try await onCloud { try $0.launchInstance(imageID: imageID, settings: settings, userData: userData, name: name) }
    }

    public func describeInstance(id: String) async throws -> Instance {
        try await onCloud { try $0.describeInstance(id: id) }
    }

    public func describeInstances() async throws -> [Instance] {
        try await onCloud { try $0.describeInstances() }
    }

    public func stopInstance(id: String) async throws -> Instance {
        try await onCloud { try $0.stopInstance(id: id) }
    }

    public func startInstance(id: String) async throws -> Instance {
        try await onCloud { try $0.startInstance(id: id) }
    }

    public func terminateInstance(id: String) async throws -> Instance {
        try await onCloud { try $0.terminateInstance(id: id) }
    }

    public func firstBootStatus(id: String) async throws -> FirstBootStatus {
        try await onCloud { try $0.firstBootStatus(id: id) }
    }

    public func endpoint(instanceID: String, port: Int) async throws -> InstanceEndpoint {
        try await onCloud { try $0.endpoint(instanceID: instanceID, port: port) }
    }
}
