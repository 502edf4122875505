import FerryCore
/// The workbench's own user with exactly the permissions it needs, and its access key. The
/// secret is shown once, to the person running the step, and never recorded.
struct CreateMigrationUserAction: RecipeAction {
    init() {}

    let name = "identity.create-migration-user"
    let summary = "Create the migration user with a least-privilege policy and an access key"
    let inputs = [
        RecipeActionInput("name", .string, help: "the user's name"),
        RecipeActionInput("show_secret", .boolean, default: .boolean(false), help: "print the secret access key once (it is never stored)"),
    ]
    let outputs = ["user_name", "user_arn", "access_key_id", "policy_actions"]
    let requiredCapabilities: [Capability] = [.identity]

    func plan(_ inputs: RecipeInputs) -> [String] {
        ["create user \(inputs.optionalString("name") ?? "?") with the workbench's least-privilege policy and an access key"]
    }

    func run(_ inputs: RecipeInputs, context: RecipeContext) async throws -> [String: RecipeValue] {
        let identity = try context.environment.identity()
        let name = try inputs.string("name")
        let user = try await identity.createUser(name: name, tags: ["CreatedBy": "ferry"])
        try context.created(CloudResource(kind: .user, id: user.name), detail: RecipeResourceDetail.json(["arn": user.arn]))
        let policy = identity.workbenchPolicy
        try await identity.putUserPolicy(userName: name, policyName: "FerryMigration", document: policy)
        let actions = policy.statements.flatMap(\.actions)
        context.progress(context.say(en: "user \(user.name) (\(user.arn)) may call \(actions.count) actions, nothing else",
                                     ja: "ユーザー \(user.name) (\(user.arn)) が呼び出せるのは \(actions.count) 個のアクションだけです"))
        let key = try await identity.createAccessKey(userName: name)
        try context.created(CloudResource(kind: .accessKey, id: key.accessKeyID), detail: RecipeResourceDetail.json(["user": name]))
        if inputs.boolean("show_secret", default: false) {
            context.progress(context.say(en: "access key \(key.accessKeyID), secret \(key.secret.reveal()) — shown this once, store it now",
                                         ja: "アクセスキー \(key.accessKeyID)、シークレット \(key.secret.reveal()) — 表示は一度だけです。今すぐ保管してください"))
        } else {
            context.progress(context.say(en: "access key \(key.accessKeyID) created; its secret was not shown and is not kept",
                                         ja: "アクセスキー \(key.accessKeyID) を作成しました。シークレットは表示も保存もしていません"))
        }
        return ["user_name": .string(user.name), "user_arn": .string(user.arn), "access_key_id": .string(key.accessKeyID), "policy_actions": .integer(actions.count)]
    }
}
