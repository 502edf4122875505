import Foundation

/// Runs a program of this machine (qemu-img, tar) for a test and returns its status and
/// everything it printed, stdout and stderr together.
public enum HostTool {
    public static func run(_ path: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
                           timeoutSeconds: Int = 900) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let collected = try ChildOutput.collect(process, output: pipe, errors: nil, timeoutSeconds: timeoutSeconds)
        return (collected.status, String(decoding: collected.stdout, as: UTF8.self))
    }
}
