import FerryCore
import FerryKit

/// Which adapters a command on an existing run needs, so that only their plugins start.
enum RecipeRunAdapters {
    /// What a run created lives in its source and target environments: all that destroy
    /// needs (the recipe file may be gone by then).
    static func environments(of runID: String, in workspace: Workspace) throws -> Set<String> {
        let run = try RecipeRunStore(workspace: workspace).run(runID)
        return [run.sourceAdapter, run.targetAdapter]
    }

    /// Everything the run's recipe uses, with the run's own parameters; `nil` (every
    /// plugin) when that is known only as the run goes on.
    static func names(of runID: String, in workspace: Workspace) throws -> Set<String>? {
        let run = try RecipeRunStore(workspace: workspace).run(runID)
        let recipe = try RecipeLoader.load(file: run.recipeFile)
        return recipe.adapterNames(source: run.sourceAdapter, target: run.targetAdapter, parameters: run.parameters)
    }
}
