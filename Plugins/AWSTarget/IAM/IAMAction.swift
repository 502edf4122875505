/// Every IAM action Ferry calls (the policy is generated from this list).
public enum IAMAction: String, CaseIterable, Sendable {
    case createUser = "CreateUser", deleteUser = "DeleteUser", getUser = "GetUser"
    case putUserPolicy = "PutUserPolicy", listUserPolicies = "ListUserPolicies", deleteUserPolicy = "DeleteUserPolicy"
    case createAccessKey = "CreateAccessKey", listAccessKeys = "ListAccessKeys", deleteAccessKey = "DeleteAccessKey"
}
