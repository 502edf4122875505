import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import SandboxTarget
#if canImport(Glibc)
import Glibc
#endif

struct WorkshopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workshop",
        abstract: "Run the migration workshop on the sandbox: guided on a terminal, unattended with --yes.",
        discussion: """
            Creates the workspace if needed, builds the guest profile's image on first use, removes \
            the previous workshop run of this workspace, and runs the `workshop` recipe: the \
            built-in one, or a local recipe of that name (--recipes, $FERRY_RECIPES, ./recipes).
            `--param profile=debian-wordpress` migrates Debian's real WordPress instead of the \
            busybox blog (its image takes minutes to build the first time; the instance type \
            becomes t3.medium unless --param instance_type says otherwise); \
            `--param profile=vmware-debian` migrates it built as a VMware VM, which boots on the \
            sandbox only once the Machine Converter has converted it (the Conversion step shows \
            what it changes). The busybox guest, built for the sandbox and not a distribution the \
            converter knows, is launched as it was replicated (the recipe's convert=auto).
            """
    )

    @OptionGroup var style: RecipeRunStyle

    @OptionGroup var recipes: RecipeFolderOptions

    @OptionGroup var parameterOptions: RecipeParameterOptions

    @Flag(name: .customLong("no-convert"), help: "Launch the disks as they were replicated, without the Machine Converter (the recipe's convert=false; a VMware-shaped guest then does not boot).")
    var noConvert = false

    @OptionGroup var global: GlobalOptions

    /// The parameters given, with conversion off when --no-convert asks for it.
    private func parameters(for recipe: Recipe) throws -> [String: String] {
        var given = try parameterOptions.parsed(for: recipe)
        guard recipe.parameter("convert") != nil else { return given }
        if noConvert {
            if let asked = given["convert"], asked.lowercased() != "false" { throw CommandRefusal("--no-convert and --param convert=\(asked) disagree: give one") }
            given["convert"] = "false"
        }
        return given
    }

    func run() async throws {
        // The recipe is read and checked before the workspace is made: a workshop that
        // cannot start leaves no ./.ferry behind.
        let catalog = recipes.catalog
        let checked = try catalog.recipe("workshop")
        try RecipeValidator(actions: .builtIn).validate(checked)
        let given = try parameters(for: checked)
        _ = try RecipeValidator.resolveParameters(checked, given: given)
        // The workshop runs on the sandbox, whose source server boots a guest profile: a wrong
        // name is refused here, before any network is made for it.
        if let profile = given["profile"], checked.parameter("profile") != nil, GuestProfile.named(profile) == nil {
            throw CommandRefusal("unknown profile '\(profile)': the workshop's WordPress server boots one of \(GuestProfile.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let (workspace, created) = try Workspace.create(at: global.workspaceURL, ferryVersion: FerryVersion.current)
        do {
            try await prepareAndRun(in: workspace, catalog: catalog)
        } catch where created && (try? RecipeRunStore(workspace: workspace).runs().isEmpty) == true {
            // A workspace this command made, that failed before its run began (the base
            // image could not be built, say), is not left behind half made.
            try? FileManager.default.removeItem(at: workspace.root)
            throw error
        }
    }

    private func prepareAndRun(in workspace: Workspace, catalog: RecipeCatalog) async throws {
        try AgentTokenStore(workspace: workspace).createIfMissing()
        let recipe = try catalog.recipeForRun("workshop", in: workspace)
        var given = try parameters(for: recipe)
        // A Debian guest needs more memory than the default type has: give it enough, unless the type was chosen.
        if let profile = given["profile"].flatMap(GuestProfile.named), given["instance_type"] == nil, recipe.parameter("instance_type") != nil,
           profile.minimumMemoryMiB > InstanceType.smallest(fittingMiB: 0).memoryMiB {
            given["instance_type"] = InstanceType.smallest(fittingMiB: profile.minimumMemoryMiB).name
        }
        let parameters = try RecipeValidator.resolveParameters(recipe, given: given)
        let registry = try InstalledAdapters.registry(workspaceRoot: workspace.root, only: recipe.adapterNames(source: "sandbox", target: "sandbox", parameters: parameters))
        let json = global.output == .json
        let console = RecipeConsole(guided: style.isGuided, json: json)
        // With --output json, stdout holds the run as JSON and nothing else: what the command
        // says on the way goes to stderr.
        let say: (String) -> Void = { line in
            if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
        }
        let runner = RecipeRunner(workspace: workspace, actions: .builtIn, registry: registry, events: console)

        for previous in try RecipeRunStore(workspace: workspace).runs() where previous.recipe == recipe.name && previous.status != .destroyed {
            // A run still going in another process is refused here, before anything is said
            // to be removed (destroy takes the same lock again, for good).
            _ = try WorkspaceLock(workspace: workspace, name: previous.id, purpose: "checking that the run is not in use")
            say(RecipeWording.pick(style.lang, en: "Removing the previous workshop run \(previous.id) (ferry recipe destroy \(previous.id))",
                                   ja: "前回のワークショップ \(previous.id) を削除します (ferry recipe destroy \(previous.id))"))
            _ = try await runner.destroy(previous.id)
        }
        // The registry's own sandbox adapter, so that the run and this command share one database connection.
        let sandbox = try ((registry.adapter(named: "sandbox") as? SandboxTargetAdapter) ?? BuiltInAdapters.sandbox(workspaceRoot: workspace.root)).cloud()
        // Built only for a recipe that boots a guest profile (the workshop names it as its
        // `profile`): a local workshop recipe without machines needs none, and must not wait minutes for one.
        if let profile = parameters["profile"]?.string.flatMap(GuestProfile.named), try !sandbox.describeImages().contains(where: { $0.name == profile.imageName }) {
            say(RecipeWording.pick(style.lang, en: "Building the \(profile.rawValue) guest image (first use) from Debian's packages…",
                                   ja: "\(profile.rawValue) ゲストイメージを Debian のパッケージから作成します（初回のみ）…"))
            let image = try sandbox.guestImage(profile) { say("   \($0)") }
            say(RecipeWording.pick(style.lang, en: "Built \(image.id) (\(image.name))", ja: "作成しました: \(image.id) (\(image.name))"))
        }
        let run = try await console.running(language: style.lang) { try await runner.start(recipe, parameters: given, source: "sandbox", target: "sandbox", language: style.lang) }
        // As JSON: the run, as `recipe status --output json` shows it.
        try console.summary(run)
        if !json { print(WorkshopSummary(run: run, language: style.lang).text) }
    }
}

/// The numbers a workshop run ends with.
struct WorkshopSummary {
    let run: RecipeRun
    var language = "en"

    private func say(_ en: String, _ ja: String) -> String { RecipeWording.pick(language, en: en, ja: ja) }

    var text: String {
        var lines = ["", say("Workshop summary", "ワークショップのまとめ")]
        if let agent = run.step("agent"), let sync = run.step("initial-sync"), let start = agent.startedAt, let end = sync.endedAt,
           let bytes = sync.outputs["replicated_bytes"]?.integer {
            // The disk's size over the time, not a wire rate: blocks of zeros are skipped, not sent.
            let seconds = max(end.timeIntervalSince(start), 0.001)
            let size = Output.bytes(UInt64(bytes)), rate = Output.bytes(UInt64(Double(bytes) / seconds))
            lines.append(say(String(format: "  initial sync: a %@ disk in %.1f s (%@/s of disk; zero blocks are skipped, not sent)", size, seconds, rate),
                             String(format: "  初期同期: %@ のディスクを %.1f 秒で (ディスク換算 %@/秒。ゼロのブロックは送りません)", size, seconds, rate)))
        }
        if let cutover = run.step("cutover"), let seconds = cutover.seconds {
            lines.append(say(String(format: "  cutover command to the first HTTP answer of the cutover instance: %.1f s", seconds),
                             String(format: "  カットオーバーの指示からカットオーバーインスタンスの最初の HTTP 応答まで: %.1f 秒", seconds)))
        }
        if let url = run.step("cutover")?.outputs["url"]?.string {
            lines.append(say("  the cutover instance answers at \(url)", "  カットオーバーインスタンスの URL: \(url)"))
        }
        lines.append(say("  `ferry recipe destroy \(run.id)` removes everything the workshop created.",
                         "  `ferry recipe destroy \(run.id)` でワークショップが作成したものをすべて削除できます。"))
        return lines.joined(separator: "\n")
    }
}
