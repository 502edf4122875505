import FerryCore
import FerryReplication
import Foundation

/// Starts the replication server of the staging area: `ferry replication-server` as a
/// background process of this workspace. On a target that can place a process in a subnet
/// (the sandbox), the server is placed at the staging subnet's address on TCP 1500, behind
/// the replication servers' security group: source machines reach it there, as MGN's agents
/// reach the staging subnet's replication server, and only as far as the rules allow.
struct StartReplicationServerAction: RecipeAction {
    init() {}

    let name = "replication.start-server"
    let summary = "Start the replication server that receives the agents' blocks, in the staging subnet on TCP 1500 where the target can place it"
    let inputs = [
        RecipeActionInput("subnet_id", .string, help: "the staging subnet it stands in"),
        RecipeActionInput("security_group_ids", .list, default: .list([]), help: "the replication servers' security groups (with them, and a target that places processes, it stands at the subnet's address)"),
        RecipeActionInput("listen", .string, default: .string("127.0.0.1:0"), help: "address to listen on, on this machine (port 0: any free port)"),
    ]
    let outputs = ["address", "agent_address", "pid"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["start a replication server in \(inputs.optionalString("subnet_id") ?? "?") listening on \(inputs.optionalString("listen") ?? "")"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        try FileManager.default.createDirectory(at: context.runDirectory, withIntermediateDirectories: true)
        let subnet = try inputs.string("subnet_id")
        let groups = inputs.strings("security_group_ids")
        let placement = groups.isEmpty ? nil : try? context.environment.serviceEndpoints()
        var listen = try ReplicationEndpoint(parsing: try inputs.string("listen"), option: "listen")
        if placement != nil, listen.port == 0 {
            // The endpoint names the port it relays to before the server starts.
            listen = ReplicationEndpoint(host: listen.host, port: try LocalPort.free())
        }
        var endpoint: ServiceEndpoint?
        if let placement {
            let placed = try await placement.placeServiceEndpoint(ServiceEndpointRequest(
                name: "Replication Server", subnetID: subnet, securityGroupIDs: groups, port: ReplicationSettings.defaultDataPlanePort, hostPort: listen.port))
            try context.created(CloudResource(kind: .networkInterface, id: placed.id), detail: RecipeResourceDetail.json([
                "name": "Replication Server \(placed.address)", "subnet": subnet, "address": placed.address,
            ]))
            endpoint = placed
        }
        let log = context.runDirectory.appendingPathComponent("replication-server.log")
        let portFile = context.runDirectory.appendingPathComponent("replication-server.address")
        try? FileManager.default.removeItem(at: portFile)
        let pid = try BackgroundProcess.spawn(BackgroundProcess.ferryExecutable, ReplicationCommandLine.server(
            workspace: context.workspace.root, listen: listen.description, portFile: portFile, stallAfterSeconds: 20, disconnectAfterSeconds: 60,
            advertise: endpoint?.address
        ), log: log)
        try context.created(CloudResource(kind: .process, id: String(pid)), detail: RecipeResourceDetail.json([
            "name": "Replication Server", RecipeResourceRole.detailKey: RecipeResourceRole.replicationServer.rawValue, "subnet": subnet, "log": log.path,
            "address": endpoint?.address ?? "",
        ]))
        // The server writes its address to the port file once it listens.
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, BackgroundProcess.isRunning(pid) {
            if let address = try ReplicationPortFile.read(portFile) {
                let reached = endpoint?.address ?? address.description
                context.progress(context.say(en: "replication server \(pid) listening on \(address); source machines reach it at \(reached)",
                                             ja: "レプリケーションサーバー \(pid) が \(address) で待ち受けています。ソースマシンからは \(reached) で到達します"))
                return ["address": .string(address.description), "agent_address": .string(reached), "pid": .integer(Int(pid))]
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(5).joined(separator: "\n")
        throw RecipeInputError.invalid(name: "listen", reason: "the replication server did not start listening; its log says:\n\(tail)")
    }
}
