extension RecipeActionRegistry {
    /// The actions every recipe can use.
    public static var builtIn: RecipeActionRegistry {
        RecipeActionRegistry([
            CreateVPCAction(),
            CreateSecurityGroupAction(),
            LaunchInstanceAction(),
            VerifyHTTPAction(),
            FindImageAction(),
            CreateMigrationUserAction(),
            PublishPostAction(),
            StartReplicationServerAction(),
            InstallAgentAction(),
            WaitForReplicationAction(),
            LaunchFromSnapshotAction(),
            MarkReadyForCutoverAction(),
            FinalizeCutoverAction(),
        ])
    }
}
