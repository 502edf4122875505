import FerryCore
import Foundation

/// The services Ferry talks to, with what each needs for signing and addressing.
public enum AWSService: String, Sendable, CaseIterable {
    case ec2, ebs, iam, sts

    /// The name in the credential scope and in the default host.
    var signingName: String { rawValue }

    /// The per-service endpoint variable, as AWS's own tools read it.
    var endpointVariable: String { "AWS_ENDPOINT_URL_\(rawValue.uppercased())" }

    /// IAM is global: one endpoint, signed for us-east-1.
    func signingRegion(_ region: String) -> String { self == .iam ? "us-east-1" : region }

    func defaultEndpoint(region: String) -> URL {
        switch self {
        case .iam: return URL(string: "https://iam.amazonaws.com")!
        default: return URL(string: "https://\(rawValue).\(region).amazonaws.com")!
        }
    }
}

/// Credentials, region and endpoints, found the way AWS's own tools find them:
/// the environment first, then the shared credentials and config files of the profile.
public struct AWSSettings: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var profile: String
    /// Endpoint per service, after overrides.
    public var endpoints: [String: URL]

    public init(credentials: AWSCredentials, region: String, profile: String = "default", endpoints: [AWSService: URL] = [:]) {
        self.credentials = credentials
        self.region = region
        self.profile = profile
        self.endpoints = Dictionary(uniqueKeysWithValues: endpoints.map { ($0.key.rawValue, $0.value) })
    }

    public func endpoint(for service: AWSService) -> URL {
        endpoints[service.rawValue] ?? service.defaultEndpoint(region: region)
    }

    /// Overrides given as adapter options; nil keeps what the environment says.
    public struct Overrides: Sendable {
        public var profile: String?
        public var region: String?
        public var endpointURL: String?
        public init(profile: String? = nil, region: String? = nil, endpointURL: String? = nil) {
            self.profile = profile
            self.region = region
            self.endpointURL = endpointURL
        }
    }

    /// Resolves the settings from `environment` (and the files it points to).
    public static func resolve(environment: [String: String], overrides: Overrides = Overrides()) throws -> AWSSettings {
        let env = environment.filter { !$0.value.isEmpty }
        let home = env["HOME"] ?? NSHomeDirectory()
        let profile = overrides.profile ?? env["AWS_PROFILE"] ?? env["AWS_DEFAULT_PROFILE"] ?? "default"
        let credentialsPath = env["AWS_SHARED_CREDENTIALS_FILE"].map(expandTilde(home)) ?? "\(home)/.aws/credentials"
        let configPath = env["AWS_CONFIG_FILE"].map(expandTilde(home)) ?? "\(home)/.aws/config"
        let credentialsFile = try SharedConfigFile(path: credentialsPath)
        let configFile = try SharedConfigFile(path: configPath)
        let configSection = configFile.configProfile(profile)
        let credentialsSection = credentialsFile.credentialsProfile(profile)

        // An explicitly chosen profile must exist somewhere.
        let profileChosen = overrides.profile != nil || env["AWS_PROFILE"] != nil
        if profileChosen, configSection == nil, credentialsSection == nil {
            throw AWSConfigurationError.profileNotFound(profile: profile, files: [credentialsPath, configPath])
        }

        let credentials = try resolveCredentials(env: env, profile: profile, profileGiven: overrides.profile != nil, credentialsPath: credentialsPath, credentialsSection: credentialsSection, configPath: configPath, configSection: configSection)

        guard let region = overrides.region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? configSection?["region"] else {
            throw AWSConfigurationError.noRegion(profile: profile)
        }

        var endpoints: [AWSService: URL] = [:]
        let general = try overrides.endpointURL.map { try endpointURL($0, variable: "endpoint-url") }
            ?? env["AWS_ENDPOINT_URL"].map { try endpointURL($0, variable: "AWS_ENDPOINT_URL") }
            ?? configSection?["endpoint_url"].map { try endpointURL($0, variable: "endpoint_url in \(configPath)") }
        for service in AWSService.allCases {
            if let specific = env[service.endpointVariable] {
                endpoints[service] = try endpointURL(specific, variable: service.endpointVariable)
            } else if let general {
                endpoints[service] = general
            }
        }
        return AWSSettings(credentials: credentials, region: region, profile: profile, endpoints: endpoints)
    }

    private static func resolveCredentials(env: [String: String], profile: String, profileGiven: Bool, credentialsPath: String, credentialsSection: [String: String]?, configPath: String, configSection: [String: String]?) throws -> AWSCredentials {
        // As with AWS's CLI: keys in the environment come first, unless a profile was named
        // explicitly (an option, not AWS_PROFILE).
        let fromFiles = [(credentialsSection, credentialsPath), (configSection, configPath)]
        if profileGiven, let found = try profileCredentials(fromFiles, profile: profile) { return found }
        if let key = env["AWS_ACCESS_KEY_ID"] {
            guard let secret = env["AWS_SECRET_ACCESS_KEY"] else {
                throw AWSConfigurationError.incompleteCredentials(source: "the environment", missing: "AWS_SECRET_ACCESS_KEY")
            }
            return AWSCredentials(accessKeyID: key, secretAccessKey: Secret(secret), sessionToken: env["AWS_SESSION_TOKEN"].map(Secret.init), source: "environment")
        }
        if let found = try profileCredentials(fromFiles, profile: profile) { return found }
        throw AWSConfigurationError.noCredentials(profile: profile, searched: ["AWS_ACCESS_KEY_ID", credentialsPath, configPath])
    }

    private static func profileCredentials(_ files: [([String: String]?, String)], profile: String) throws -> AWSCredentials? {
        for (section, path) in files {
            guard let section, let key = section["aws_access_key_id"] else { continue }
            let source = "profile \(profile) in \(path)"
            guard let secret = section["aws_secret_access_key"] else {
                throw AWSConfigurationError.incompleteCredentials(source: source, missing: "aws_secret_access_key")
            }
            return AWSCredentials(accessKeyID: key, secretAccessKey: Secret(secret), sessionToken: section["aws_session_token"].map(Secret.init), source: source)
        }
        return nil
    }

    private static func endpointURL(_ value: String, variable: String) throws -> URL {
        guard let url = URL(string: value), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw AWSConfigurationError.invalidEndpoint(variable: variable, value: value)
        }
        return url
    }

    private static func expandTilde(_ home: String) -> (String) -> String {
        { $0.hasPrefix("~/") ? home + $0.dropFirst() : $0 }
    }
}
