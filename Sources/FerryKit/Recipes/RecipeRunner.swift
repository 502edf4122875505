import FerryCore
import Foundation

/// Runs recipes: plan, run (guided or unattended), resume from the failed or interrupted
/// step, and destroy what a run created, in reverse order. Everything is recorded in the
/// workspace as it happens.
public struct RecipeRunner: Sendable {
    public let workspace: Workspace
    public let actions: RecipeActionRegistry
    public let registry: AdapterRegistry
    public let events: any RecipeRunEvents

    public init(workspace: Workspace, actions: RecipeActionRegistry, registry: AdapterRegistry, events: any RecipeRunEvents) {
        self.workspace = workspace
        self.actions = actions
        self.registry = registry
        self.events = events
    }

    var store: RecipeRunStore { RecipeRunStore(workspace: workspace) }

    public func runDirectory(_ runID: String) -> URL {
        workspace.root.appendingPathComponent("runs", isDirectory: true).appendingPathComponent(runID, isDirectory: true)
    }

    /// What a run would do, step by step, touching nothing.
    public func plan(_ recipe: Recipe, parameters: [String: String], source: String, target: String) throws -> [RecipePlanStep] {
        try RecipeValidator(actions: actions).validate(recipe)
        let values = try RecipeValidator.resolveParameters(recipe, given: parameters)
        return recipe.steps.map { step in
            let action = actions.action(named: step.action)!
            let adapter = step.environment == .source ? source : target
            let access = RecipeEnvironmentAccess(role: step.environment, adapterName: adapter, registry: registry)
            let inputs = (try? resolveInputs(step.inputs, action: action, parameters: values, outputs: [:], planning: true)) ?? RecipeInputs([:])
            return RecipePlanStep(id: step.id, title: step.title, action: step.action, environment: step.environment, adapter: adapter,
                                  effects: action.plan(inputs), problem: access.missing(action.requiredCapabilities))
        }
    }

    /// Starts a new run of `recipe`.
    public func start(_ recipe: Recipe, parameters: [String: String], source: String, target: String, language: String) async throws -> RecipeRun {
        try RecipeValidator(actions: actions).validate(recipe)
        let values = try RecipeValidator.resolveParameters(recipe, given: parameters)
        // Refuse before creating anything when an environment cannot do a step.
        for step in recipe.steps {
            let action = actions.action(named: step.action)!
            let access = RecipeEnvironmentAccess(role: step.environment, adapterName: step.environment == .source ? source : target, registry: registry)
            if let problem = access.missing(action.requiredCapabilities) {
                throw RecipeError.missingCapability(step: step.id, action: step.action, reason: problem)
            }
        }
        let run = RecipeRun(
            id: ResourceID.make(prefix: "run"), recipe: recipe.name, recipeFile: recipe.file, sourceAdapter: source, targetAdapter: target,
            parameters: values, language: language, status: .running, startedAt: Date(), endedAt: nil,
            steps: recipe.steps.map { RecipeStepRecord(stepID: $0.id, status: .pending, outputs: [:]) }, resources: []
        )
        let lock = try lockRun(run.id, purpose: "running recipe \(recipe.name)")
        defer { withExtendedLifetime(lock) {} }
        try store.createRun(run)
        try FileManager.default.createDirectory(at: runDirectory(run.id), withIntermediateDirectories: true)
        return try await proceed(run.id, recipe: recipe)
    }

    /// Continues a run from its first step that has not succeeded.
    public func resume(_ runID: String) async throws -> RecipeRun {
        let lock = try lockRun(runID, purpose: "resuming the run")
        defer { withExtendedLifetime(lock) {} }
        let run = try store.run(runID)
        let recipe = try RecipeLoader.load(file: run.recipeFile)
        try RecipeValidator(actions: actions).validate(recipe)
        guard run.status != .destroyed, run.status != .destroying else {
            throw RecipeError.stepFailed(run: runID, step: "-", reason: "the run was destroyed; start a new one")
        }
        try store.setStatus(run: runID, .running)
        return try await proceed(runID, recipe: recipe)
    }

    private func proceed(_ runID: String, recipe: Recipe) async throws -> RecipeRun {
        var run = try store.run(runID)
        let source = RecipeEnvironmentAccess(role: .source, adapterName: run.sourceAdapter, registry: registry)
        let target = RecipeEnvironmentAccess(role: .target, adapterName: run.targetAdapter, registry: registry)
        for (index, step) in recipe.steps.enumerated() {
            guard let record = run.step(step.id), record.status != .succeeded else { continue }
            let action = actions.action(named: step.action)!
            try await events.willRun(step: step, index: index, of: recipe.steps.count, language: run.language)
            if record.status == .failed || record.status == .running {
                try await removeLeftovers(of: step.id, in: run)
            }
            try store.startStep(run: runID, step: step.id)
            let context = RecipeContext(
                runID: runID, stepID: step.id, workspace: workspace, environment: step.environment == .source ? source : target,
                source: source, target: target, language: run.language, runDirectory: runDirectory(runID), store: store,
                report: { events.progress(step: step.id, $0) }
            )
            do {
                let outputsSoFar = Dictionary(uniqueKeysWithValues: run.steps.map { ($0.stepID, $0.outputs) })
                let inputs = try resolveInputs(step.inputs, action: action, parameters: run.parameters, outputs: outputsSoFar, planning: false)
                let outputs = try await action.run(inputs, context: context)
                var visible = outputsSoFar
                visible[step.id] = outputs
                for check in step.checks {
                    guard let checkAction = actions.action(named: check.action) else { continue }
                    let checkInputs = try resolveInputs(check.inputs, action: checkAction, parameters: run.parameters, outputs: visible, planning: false)
                    do {
                        _ = try await checkAction.run(checkInputs, context: context)
                    } catch {
                        throw RecipeError.checkFailed(step: step.id, check: check.action, reason: "\(error)")
                    }
                }
                try store.finishStep(run: runID, step: step.id, outputs: outputs)
            } catch {
                try store.failStep(run: runID, step: step.id, error: "\(error)")
                try store.setStatus(run: runID, .failed, ended: true)
                run = try store.run(runID)
                events.didFinish(step: step, run: run, diagram: try? writeDiagram(run: run, recipe: recipe, after: step.id))
                throw RecipeError.stepFailed(run: runID, step: step.id, reason: "\(error)")
            }
            run = try store.run(runID)
            events.didFinish(step: step, run: run, diagram: try? writeDiagram(run: run, recipe: recipe, after: step.id))
        }
        try store.setStatus(run: runID, .succeeded, ended: true)
        return try store.run(runID)
    }

    /// Removes what the run created, newest first. Safe to repeat; also after a crash, since
    /// every resource was recorded as it was created.
    public func destroy(_ runID: String) async throws -> [RecipeResourceRecord] {
        let lock = try lockRun(runID, purpose: "destroying the run")
        defer { withExtendedLifetime(lock) {} }
        let run = try store.run(runID)
        try store.setStatus(run: runID, .destroying)
        let (removed, failures) = await remove(run.resources, of: run)
        guard failures.isEmpty else {
            try store.setStatus(run: runID, .failed, ended: true)
            throw RecipeError.stepFailed(run: runID, step: "destroy", reason: failures.joined(separator: "; "))
        }
        RecipeRunSecrets(runDirectory: runDirectory(runID)).removeAll()
        try store.setStatus(run: runID, .destroyed, ended: true)
        return removed
    }

    /// Before a failed or interrupted step runs again, what its earlier attempt created goes,
    /// newest first: a step is not idempotent (a second test launch would leave the first
    /// test instance running through cutover and finalize, unknown to every later step).
    /// Removing rather than adopting, because an interrupted attempt may have stopped
    /// half-way through making a resource (a volume half imported, an instance that never
    /// booted), and only the action could tell a usable one from a broken one.
    private func removeLeftovers(of stepID: String, in run: RecipeRun) async throws {
        let leftovers = run.resources.filter { $0.stepID == stepID }
        let (_, failures) = await remove(leftovers, of: run)
        guard failures.isEmpty else {
            // Running the step again now would add to what could not be removed.
            try store.setStatus(run: run.id, .failed, ended: true)
            throw RecipeError.stepFailed(run: run.id, step: stepID,
                                         reason: "what its interrupted attempt created could not be removed: \(failures.joined(separator: "; "))")
        }
    }

    /// Removes the records not yet destroyed, newest first, each through the capability that
    /// owns its kind; returns what went and what could not.
    private func remove(_ records: [RecipeResourceRecord], of run: RecipeRun) async -> (removed: [RecipeResourceRecord], failures: [String]) {
        var failures: [String] = []
        var removed: [RecipeResourceRecord] = []
        for record in records.reversed() where record.destroyedAt == nil {
            let adapter = record.environment == .source ? run.sourceAdapter : run.targetAdapter
            let destroyer = RecipeResourceDestroyer(environment: RecipeEnvironmentAccess(role: record.environment, adapterName: adapter, registry: registry))
            do {
                try await destroyer.destroy(record.resource)
            } catch where RecipeResourceDestroyer.meansGone(error) {
                // Already gone: nothing left to remove.
            } catch {
                failures.append("\(record.resource): \(error)")
                continue
            }
            do {
                try store.markDestroyed(sequence: record.sequence)
            } catch {
                failures.append("\(record.resource): removed, but not recorded as removed: \(error)")
                continue
            }
            removed.append(record)
            events.destroyed(record)
        }
        return (removed, failures)
    }

    /// One process at a time runs, resumes or destroys a run: a second `ferry workshop`
    /// must not tear down the run that is still going (it is refused, naming the process).
    private func lockRun(_ runID: String, purpose: String) throws -> WorkspaceLock {
        try WorkspaceLock(workspace: workspace, name: runID, purpose: purpose)
    }

    private func writeDiagram(run: RecipeRun, recipe: Recipe, after stepID: String) throws -> URL {
        let diagram = ArchitectureDiagram(run: run, recipe: recipe, afterStep: stepID, workspace: workspace)
        let url = runDirectory(run.id).appendingPathComponent("\(stepID).svg")
        try FileManager.default.createDirectory(at: runDirectory(run.id), withIntermediateDirectories: true)
        try diagram.svg().write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func resolveInputs(_ inputs: [String: RecipeInput], action: any RecipeAction, parameters: [String: RecipeValue],
                       outputs: [String: [String: RecipeValue]], planning: Bool) throws -> RecipeInputs {
        var values: [String: RecipeValue] = [:]
        for spec in action.inputs {
            if let input = inputs[spec.name] {
                values[spec.name] = try resolve(input, parameters: parameters, outputs: outputs, planning: planning)
            } else if let fallback = spec.defaultValue {
                values[spec.name] = fallback
            }
        }
        for spec in action.inputs {
            if let value = values[spec.name], !spec.type.accepts(value), !planning {
                throw RecipeInputError.invalid(name: spec.name, reason: "must be a \(spec.type.rawValue), not a \(value.type.rawValue) ('\(value)')")
            }
        }
        return RecipeInputs(values)
    }

    private func resolve(_ input: RecipeInput, parameters: [String: RecipeValue], outputs: [String: [String: RecipeValue]], planning: Bool) throws -> RecipeValue {
        func lookup(_ reference: RecipeReference) throws -> RecipeValue {
            switch reference {
            case .parameter(let name):
                guard let value = parameters[name] else { throw RecipeInputError.missing("params.\(name)") }
                return value
            case .output(let step, let name):
                if let value = outputs[step]?[name] { return value }
                if planning { return .string("<\(step).\(name)>") }
                throw RecipeInputError.invalid(name: "steps.\(step).\(name)", reason: "step '\(step)' has not produced it")
            }
        }
        switch input {
        case .literal(let value): return value
        case .reference(let reference): return try lookup(reference)
        case .template(let parts):
            return .string(try parts.map { part in
                switch part {
                case .text(let text): return text
                case .reference(let reference): return try lookup(reference).description
                }
            }.joined())
        case .list(let items): return .list(try items.map { try resolve($0, parameters: parameters, outputs: outputs, planning: planning) })
        case .map(let entries): return .map(try entries.mapValues { try resolve($0, parameters: parameters, outputs: outputs, planning: planning) })
        }
    }
}

/// What the runner tells whoever watches it (the CLI prints, waits for Enter in guided mode).
public protocol RecipeRunEvents: Sendable {
    func willRun(step: RecipeStep, index: Int, of count: Int, language: String) async throws
    func progress(step: String, _ text: String)
    func didFinish(step: RecipeStep, run: RecipeRun, diagram: URL?)
    func destroyed(_ record: RecipeResourceRecord)
}

public struct RecipePlanStep: Codable, Hashable, Sendable {
    public var id: String
    public var title: String
    public var action: String
    public var environment: RecipeEnvironment
    public var adapter: String
    public var effects: [String]
    /// Why this step could not run on that adapter, if it could not.
    public var problem: String?
}
