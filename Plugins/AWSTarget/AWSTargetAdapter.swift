import FerryCore
import Foundation

/// Clouds that speak the AWS wire protocols: EC2 Query API, EBS direct APIs, IAM, STS.
///
/// Settings are found as AWS's own tools find them (see `AWSSettings`); a problem with them
/// is reported when the adapter is used, not when it is registered, so that listing
/// adapters works on a machine without AWS credentials.
public struct AWSTargetAdapter: Adapter {
    public let descriptor = Self.describe()

    private let connectionResult: Result<AWSConnection, AWSConfigurationError>

    /// Settings from `environment` and the shared files it points to, with `options`
    /// ("region", "profile", "endpoint-url") taking precedence.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, options: [String: String] = [:], tuning: AWSTuning = AWSTuning()) {
        let overrides = AWSSettings.Overrides(profile: options["profile"], region: options["region"], endpointURL: options["endpoint-url"])
        var tuning = tuning
        if let concurrency = options["upload-concurrency"].flatMap(Int.init), concurrency > 0 { tuning.uploadConcurrency = concurrency }
        do {
            let settings = try AWSSettings.resolve(environment: environment, overrides: overrides)
            connectionResult = .success(AWSConnection(settings: settings, tuning: tuning))
        } catch let error as AWSConfigurationError {
            connectionResult = .failure(error)
        } catch {
            connectionResult = .failure(.unreadableFile(path: "AWS settings", reason: "\(error)"))
        }
    }

    /// Settings given outright (tests, embedding).
    public init(settings: AWSSettings, tuning: AWSTuning = AWSTuning()) {
        connectionResult = .success(AWSConnection(settings: settings, tuning: tuning))
    }

    /// The settings in use, or what is wrong with them.
    public func settings() throws -> AWSSettings { try connection().settings }

    func connection() throws -> AWSConnection { try connectionResult.get() }

    /// The account and principal behind the credentials (STS GetCallerIdentity).
    public func callerIdentity() async throws -> CallerIdentity {
        try await connection().sts.getCallerIdentity()
    }

    static func describe() -> AdapterDescriptor {
        AdapterDescriptor(
            name: "aws",
            kind: .target,
            version: "0.2.0",
            summary: "AWS and AWS-compatible clouds over EC2, EBS direct APIs, IAM and STS (SigV4)",
            capabilities: [.networking, .identity, .volumeImport, .images, .compute],
            options: [
                AdapterOption(name: "region", type: .string, help: "region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)"),
                AdapterOption(name: "profile", type: .string, help: "profile in ~/.aws/config (default: AWS_PROFILE or 'default')"),
                AdapterOption(name: "endpoint-url", type: .string, help: "endpoint override (default: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_EC2/_EBS/_IAM/_STS)"),
                AdapterOption(name: "upload-concurrency", type: .integer, defaultValue: "8", help: "EBS blocks uploaded at once"),
            ]
        )
    }
}
