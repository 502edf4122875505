import FerryCore
import Foundation

/// The architecture as it stands after a step, drawn as SVG from what the run recorded:
/// VPCs and subnets as boxes, the instances inside them, the replication server and its
/// snapshots, and the arrows of replication and launch — like the workshop's diagrams.
public struct ArchitectureDiagram: Sendable {
    public let run: RecipeRun
    public let recipe: Recipe
    public let afterStep: String
    public let workspace: Workspace

    public init(run: RecipeRun, recipe: Recipe, afterStep: String, workspace: Workspace) {
        self.run = run
        self.recipe = recipe
        self.afterStep = afterStep
        self.workspace = workspace
    }

    struct Box {
        var id: String
        var label: String
        var detail: String
        var children: [Box] = []
        var role: String = ""
        var note: String = ""
    }

    /// The detail a resource was recorded with (JSON object), as strings.
    static func attributes(_ record: RecipeResourceRecord) -> [String: String] {
        guard let data = record.detail.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.mapValues { "\($0)" }
    }

    /// Helvetica has no Japanese glyphs: a CJK family follows, so that a `--lang ja` diagram
    /// does not show boxes where its labels should be.
    static let fontFamily = "Helvetica, Arial, Noto Sans CJK JP, IPAexGothic, sans-serif"

    private func say(_ en: String, _ ja: String) -> String { RecipeWording.pick(run.language, en: en, ja: ja) }

    public func svg() -> String {
        let live = run.resources.filter { $0.destroyedAt == nil }
        let attributes = Dictionary(live.map { ($0.resource.id, Self.attributes($0)) }, uniquingKeysWith: { a, _ in a })
        func records(_ kind: CloudResourceKind) -> [RecipeResourceRecord] { live.filter { $0.resource.kind == kind } }

        // Environments → VPCs → subnets → instances and processes.
        var panels: [(String, [Box])] = []
        for environment in [RecipeEnvironment.source, .target] {
            var vpcs: [Box] = []
            for vpc in records(.vpc) where vpc.environment == environment {
                let a = attributes[vpc.resource.id] ?? [:]
                let groups = records(.securityGroup).filter { attributes[$0.resource.id]?["vpc"] == vpc.resource.id }.map { attributes[$0.resource.id]?["name"] ?? $0.resource.id }
                var box = Box(id: vpc.resource.id, label: a["name"] ?? vpc.resource.id, detail: "\(vpc.resource.id) \(a["cidr"] ?? "")",
                              note: groups.isEmpty ? "" : say("security groups: ", "セキュリティグループ: ") + groups.joined(separator: ", "))
                for subnet in records(.subnet) where attributes[subnet.resource.id]?["vpc"] == vpc.resource.id {
                    let s = attributes[subnet.resource.id] ?? [:]
                    var subnetBox = Box(id: subnet.resource.id, label: s["name"] ?? "subnet", detail: "\(subnet.resource.id) \(s["cidr"] ?? "")")
                    for instance in records(.instance) where attributes[instance.resource.id]?["subnet"] == subnet.resource.id {
                        let i = attributes[instance.resource.id] ?? [:]
                        subnetBox.children.append(Box(id: instance.resource.id, label: i["name"] ?? "instance", detail: instance.resource.id, role: i[RecipeResourceRole.detailKey] ?? "instance"))
                    }
                    // The step's Machine Converter: terminated when the step ended, drawn where it ran.
                    for converter in run.resources where converter.stepID == afterStep && converter.resource.kind == .instance
                        && Self.attributes(converter)[RecipeResourceRole.detailKey] == RecipeResourceRole.converter.rawValue
                        && Self.attributes(converter)["subnet"] == subnet.resource.id {
                        subnetBox.children.append(Box(id: converter.resource.id, label: Self.attributes(converter)["name"] ?? "Machine Converter",
                                                      detail: say("\(converter.resource.id), terminated after converting", "\(converter.resource.id)、変換後に終了"),
                                                      role: RecipeResourceRole.converter.rawValue))
                    }
                    for process in records(.process) + records(.agent) where attributes[process.resource.id]?["subnet"] == subnet.resource.id {
                        let p = attributes[process.resource.id] ?? [:]
                        let detail = process.resource.kind == .agent ? say("the service inside \(p["instance"] ?? "?")", "\(p["instance"] ?? "?") の中のサービス")
                            : p["address"].map { "\($0) · pid \(process.resource.id)" } ?? "pid \(process.resource.id)"
                        subnetBox.children.append(Box(id: process.resource.id, label: p["name"] ?? "process", detail: detail, role: p[RecipeResourceRole.detailKey] ?? "process"))
                    }
                    box.children.append(subnetBox)
                }
                vpcs.append(box)
            }
            let adapter = environment == .source ? run.sourceAdapter : run.targetAdapter
            let title = environment == .source ? say("Source environment (\(adapter))", "移行元の環境（\(adapter)）")
                                               : say("Target cloud (\(adapter))", "ターゲットクラウド（\(adapter)）")
            if !vpcs.isEmpty || environment == .target { panels.append((title, vpcs)) }
        }
        let snapshots = snapshotCount()
        let identity = records(.user).map { $0.resource.id }
        let images = records(.image).count
        let volumes = records(.volume).count + records(.snapshot).count

        // Layout: panels side by side; VPCs stacked in each panel; subnets stacked in VPCs.
        let vpcWidth = 360, subnetWidth = 320, nodeHeight = 34, margin = 20
        var out: [String] = []
        var positions: [String: (x: Int, y: Int, w: Int, h: Int)] = [:]
        var x = margin
        var maxHeight = 0
        for (title, vpcs) in panels {
            var y = 104
            var panelBody: [String] = []
            for vpc in vpcs {
                let top = y
                y += vpc.note.isEmpty ? 44 : 58
                var inner: [String] = []
                for subnet in vpc.children {
                    let subnetTop = y
                    y += 40
                    var nodes: [String] = []
                    for node in subnet.children {
                        let role = RecipeResourceRole(rawValue: node.role)
                        let colour = role == .replicationServer ? "#fde7c8" : (role == .agent ? "#e4d7f5" : (role == .converter ? "#f5f0c8" : "#d8ecd5"))
                        nodes.append(rect(x + 40, y, subnetWidth - 40, nodeHeight, fill: colour, stroke: "#5b6b5b", radius: 6))
                        nodes.append(text(x + 52, y + 15, node.label, size: 13, weight: "bold"))
                        nodes.append(text(x + 52, y + 29, node.detail, size: 10, colour: "#444"))
                        positions[node.id] = (x + 40, y, subnetWidth - 40, nodeHeight)
                        y += nodeHeight + 8
                    }
                    y += 6
                    inner.append(rect(x + 30, subnetTop, subnetWidth, y - subnetTop, fill: "#eef6ff", stroke: "#7aa7d9", radius: 6, dash: true))
                    inner.append(text(x + 40, subnetTop + 16, subnet.label, size: 12, weight: "bold", colour: "#2c5d8f"))
                    inner.append(text(x + 40, subnetTop + 30, subnet.detail, size: 10, colour: "#2c5d8f"))
                    inner += nodes
                    y += 8
                }
                y += 8
                panelBody.append(rect(x + 20, top, vpcWidth, y - top, fill: "#f7fbf7", stroke: "#3b8a3b", radius: 10))
                panelBody.append(text(x + 32, top + 20, vpc.label, size: 15, weight: "bold", colour: "#1f5f1f"))
                panelBody.append(text(x + 32, top + 36, vpc.detail, size: 11, colour: "#1f5f1f"))
                if !vpc.note.isEmpty { panelBody.append(text(x + 32, top + 50, vpc.note, size: 11, colour: "#8a5a00")) }
                panelBody += inner
                y += 16
            }
            if vpcs.isEmpty {
                panelBody.append(text(x + 30, y + 10, say("nothing created here yet", "まだ何も作成されていません"), size: 12, colour: "#777"))
                y += 30
            }
            let height = max(y, 160)
            out.append(rect(x, 56, vpcWidth + 40, height - 46, fill: "#ffffff", stroke: "#999", radius: 12))
            out.append(text(x + 14, 80, title, size: 16, weight: "bold"))
            out += panelBody
            maxHeight = max(maxHeight, height)
            x += vpcWidth + 40 + margin
        }

        // Staging and identity notes under the panels.
        var notes: [String] = []
        if snapshots > 0 || volumes > 0 || images > 0 {
            notes.append(say("Staging: \(snapshots) consistent snapshot\(snapshots == 1 ? "" : "s") in the staging store; \(volumes) imported volume\(volumes == 1 ? "" : "s"); \(images) image\(images == 1 ? "" : "s")",
                             "ステージング: ステージングストアに整合性のあるスナップショット \(snapshots) 個、インポートしたボリューム \(volumes) 個、イメージ \(images) 個"))
        }
        if !identity.isEmpty { notes.append(say("IAM user: \(identity.joined(separator: ", ")) (least-privilege policy)", "IAM ユーザー: \(identity.joined(separator: ", "))（最小権限のポリシー）")) }
        var y = maxHeight + 30
        for note in notes {
            out.append(text(margin, y, note, size: 13, colour: "#333"))
            y += 20
        }

        // Arrows: replication from agents to the replication server, launches from it to instances.
        var arrows: [String] = []
        func role(_ id: String) -> RecipeResourceRole? { attributes[id]?[RecipeResourceRole.detailKey].flatMap(RecipeResourceRole.init(rawValue:)) }
        let server = positions.first { id, _ in live.contains { $0.resource.id == id && role(id) == .replicationServer } }
        for record in live {
            guard let role = role(record.resource.id), let from = positions[record.resource.id], let to = server?.value else { continue }
            if role == .agent {
                arrows.append(arrow(from: (from.x + from.w, from.y + from.h / 2), to: (to.x, to.y + to.h / 2), colour: "#6a3fb5", label: say("replication · TCP 1500", "レプリケーション · TCP 1500")))
            } else if role.isLaunchedInstance {
                arrows.append(arrow(from: (to.x + to.w / 2, to.y + to.h), to: (from.x + from.w / 2, from.y), colour: "#2e7d32", label: role == .cutover ? say("cutover launch", "カットオーバーインスタンスを起動") : role == .test ? say("test launch", "テストインスタンスを起動") : say("\(role.rawValue) launch", "\(role.rawValue) を起動")))
            }
        }

        let step = recipe.steps.firstIndex { $0.id == afterStep }.map { $0 + 1 } ?? 0
        let stepTitle = recipe.step(afterStep)?.title(in: run.language) ?? afterStep
        let width = max(x, 760)
        let height = y + 20
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="\(Self.fontFamily)">
        <defs><marker id="head" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="context-stroke"/></marker></defs>
        <rect width="100%" height="100%" fill="#fafafa"/>
        \(text(margin, 26, recipe.title(in: run.language), size: 17, weight: "bold"))
        \(text(margin, 44, say("after step \(step) of \(recipe.steps.count): \(stepTitle)", "ステップ \(step)/\(recipe.steps.count) の後: \(stepTitle)"), size: 13, colour: "#555"))

        """
        svg += (out + arrows).joined(separator: "\n")
        svg += "\n</svg>\n"
        return svg
    }

    private func snapshotCount() -> Int {
        let servers = Set(run.steps.compactMap { $0.outputs["source_server_id"]?.string })
        guard !servers.isEmpty, let store = try? StagingStore(workspace: workspace) else { return 0 }
        return servers.reduce(0) { $0 + ((try? store.snapshots(sourceServerID: $1).count) ?? 0) }
    }

    private func rect(_ x: Int, _ y: Int, _ w: Int, _ h: Int, fill: String, stroke: String, radius: Int, dash: Bool = false) -> String {
        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\" rx=\"\(radius)\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"1.5\"\(dash ? " stroke-dasharray=\"5,3\"" : "")/>"
    }

    private func text(_ x: Int, _ y: Int, _ content: String, size: Int, weight: String = "normal", colour: String = "#222", halo: Bool = false) -> String {
        // A halo keeps a label readable where it crosses a box or an arrow.
        let stroke = halo ? " stroke=\"#fafafa\" stroke-width=\"4\" paint-order=\"stroke\"" : ""
        return "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(colour)\"\(stroke)>\(Self.escape(content))</text>"
    }

    private func arrow(from: (Int, Int), to: (Int, Int), colour: String, label: String) -> String {
        let midX = (from.0 + to.0) / 2, midY = (from.1 + to.1) / 2 - 8
        return """
        <path d="M\(from.0),\(from.1) C\(midX),\(from.1) \(midX),\(to.1) \(to.0),\(to.1)" fill="none" stroke="\(colour)" stroke-width="2.5" stroke-dasharray="7,4" marker-end="url(#head)"/>
        \(text(from.0 == to.0 ? midX + 8 : midX - 60, midY, label, size: 12, weight: "bold", colour: colour, halo: true))
        """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
