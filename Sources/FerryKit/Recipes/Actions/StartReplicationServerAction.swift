import FerryCore
import Foundation

/// Starts the replication server in the staging area: `ferry replication-server` as a
/// background process of this workspace, on a port of this machine.
struct StartReplicationServerAction: RecipeAction {
    init() {}

    let name = "replication.start-server"
    let summary = "Start the replication server that receives the agents' blocks (TCP 1500 on a real network)"
    let inputs = [
        RecipeActionInput("subnet_id", .string, help: "the staging subnet it stands in"),
        RecipeActionInput("listen", .string, default: .string("127.0.0.1:0"), help: "address to listen on (port 0: any free port)"),
    ]
    let outputs = ["address", "pid"]
    let requiredCapabilities: [Capability] = []

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["start a replication server in \(inputs.optionalString("subnet_id") ?? "?") listening on \(inputs.optionalString("listen") ?? "")"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        try FileManager.default.createDirectory(at: context.runDirectory, withIntermediateDirectories: true)
        let log = context.runDirectory.appendingPathComponent("replication-server.log")
        let portFile = context.runDirectory.appendingPathComponent("replication-server.address")
        try? FileManager.default.removeItem(at: portFile)
        let pid = try BackgroundProcess.spawn(BackgroundProcess.ferryExecutable, ReplicationCommandLine.server(
            workspace: context.workspace.root, listen: try inputs.string("listen"), portFile: portFile, stallAfterSeconds: 20, disconnectAfterSeconds: 60
        ), log: log)
        try context.created(CloudResource(kind: .process, id: String(pid)), detail: RecipeResourceDetail.json([
            "name": "replication server", RecipeResourceRole.detailKey: RecipeResourceRole.replicationServer.rawValue, "subnet": try inputs.string("subnet_id"), "log": log.path,
        ]))
        // The server writes its address to the port file once it listens.
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, BackgroundProcess.isRunning(pid) {
            if let address = try ReplicationPortFile.read(portFile) {
                context.progress(context.say(en: "replication server \(pid) listening on \(address)",
                                             ja: "レプリケーションサーバー \(pid) が \(address) で待ち受けています"))
                return ["address": .string(address.description), "pid": .integer(Int(pid))]
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(5).joined(separator: "\n")
        throw RecipeInputError.invalid(name: "listen", reason: "the replication server did not start listening; its log says:\n\(tail)")
    }
}
