/// The instance types the sandbox knows, mapped to a guest's memory and vCPUs. Small on
/// purpose: guests run under TCG on a shared laptop.
public struct InstanceType: Hashable, Sendable {
    public var name: String
    public var memoryMiB: Int
    public var vCPUs: Int

    public static let all: [InstanceType] = [
        InstanceType(name: "t3.nano", memoryMiB: 256, vCPUs: 1),
        InstanceType(name: "t3.micro", memoryMiB: 256, vCPUs: 1),
        InstanceType(name: "t3.small", memoryMiB: 384, vCPUs: 1),
        InstanceType(name: "t3.medium", memoryMiB: 512, vCPUs: 2),
        InstanceType(name: "t3.large", memoryMiB: 1024, vCPUs: 2),
        InstanceType(name: "t2.micro", memoryMiB: 256, vCPUs: 1),
        InstanceType(name: "t2.small", memoryMiB: 384, vCPUs: 1),
        InstanceType(name: "t2.medium", memoryMiB: 512, vCPUs: 2),
        InstanceType(name: "m5.large", memoryMiB: 1024, vCPUs: 2),
    ]

    public static func named(_ name: String) throws(SandboxError) -> InstanceType {
        guard let type = all.first(where: { $0.name == name }) else {
            throw .unknownInstanceType(name, known: all.map(\.name))
        }
        return type
    }
}
