import FerryCore
extension RecipeActionRegistry {
    /// The actions every recipe can use.
    public static var builtIn: RecipeActionRegistry {
        RecipeActionRegistry([
            CreateVPCAction(),
            CreateSecurityGroupAction(),
            LaunchInstanceAction(),
            VerifyHTTPAction(),
            WaitForFirstBootAction(),
            FindImageAction(),
            CreateMigrationUserAction(),
            InstallBlogAction(),
            PublishPostAction(),
            StartReplicationServerAction(),
            InstallAgentAction(),
            ReplicateSourceAction(),
            WaitForReplicationAction(),
            InspectSnapshotAction(),
            LaunchFromSnapshotAction(),
            MarkReadyForCutoverAction(),
            FinalizeCutoverAction(),
        ])
    }
}
