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

    /// The smallest type with at least `fittingMiB` of memory (t3.micro for an image that needs nothing).
    public static func smallest(fittingMiB: Int) -> InstanceType {
        // t3.micro rather than t3.nano when both fit: the same memory here, and the type people know.
        let fitting = all.filter { $0.memoryMiB >= max(fittingMiB, 256) && $0.name.hasPrefix("t3.") && $0.name != "t3.nano" }
        return fitting.min { $0.memoryMiB < $1.memoryMiB } ?? all.max { $0.memoryMiB < $1.memoryMiB }!
    }

    public static func named(_ name: String) throws(SandboxError) -> InstanceType {
        guard let type = all.first(where: { $0.name == name }) else {
            throw .unknownInstanceType(name, known: all.map(\.name))
        }
        return type
    }
}
