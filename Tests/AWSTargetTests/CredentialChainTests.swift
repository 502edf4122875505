import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit

/// Credentials, region and endpoints are found where AWS's own tools find them.
@Suite struct CredentialChainTests {
    /// A home folder with ~/.aws/credentials and ~/.aws/config.
    static func home(credentials: String = "", config: String = "") throws -> String {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-aws-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home + "/.aws", withIntermediateDirectories: true)
        try credentials.write(toFile: home + "/.aws/credentials", atomically: true, encoding: .utf8)
        try config.write(toFile: home + "/.aws/config", atomically: true, encoding: .utf8)
        return home
    }

    static let files = (
        credentials: "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = default-secret\n\n[dev]\naws_access_key_id=AKIADEV\naws_secret_access_key=dev-secret\naws_session_token=dev-token\n",
        config: "[default]\nregion = eu-central-1\n\n[profile dev]\nregion = ap-northeast-1\nendpoint_url = http://127.0.0.1:4566\n"
    )

    @Test("keys in the environment come first, with their session token")
    func environmentKeys() throws {
        let home = try Self.home(credentials: Self.files.credentials, config: Self.files.config)
        let settings = try AWSSettings.resolve(environment: ["HOME": home, "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token", "AWS_REGION": "us-west-2"])
        #expect(settings.credentials.accessKeyID == "AKIAENV")
        #expect(settings.credentials.secretAccessKey.reveal() == "env-secret")
        #expect(settings.credentials.sessionToken?.reveal() == "env-token")
        #expect(settings.region == "us-west-2")
    }

    @Test("without keys in the environment, the default profile of the shared files is used")
    func defaultProfile() throws {
        let home = try Self.home(credentials: Self.files.credentials, config: Self.files.config)
        let settings = try AWSSettings.resolve(environment: ["HOME": home])
        #expect(settings.credentials.accessKeyID == "AKIADEFAULT")
        #expect(settings.region == "eu-central-1")
        #expect(settings.endpoint(for: .ec2).absoluteString == "https://ec2.eu-central-1.amazonaws.com")
        #expect(settings.endpoint(for: .iam).absoluteString == "https://iam.amazonaws.com")
    }

    @Test("AWS_PROFILE picks the profile's keys, token, region and endpoint")
    func namedProfile() throws {
        let home = try Self.home(credentials: Self.files.credentials, config: Self.files.config)
        let settings = try AWSSettings.resolve(environment: ["HOME": home, "AWS_PROFILE": "dev"])
        #expect(settings.credentials.accessKeyID == "AKIADEV")
        #expect(settings.credentials.sessionToken?.reveal() == "dev-token")
        #expect(settings.region == "ap-northeast-1")
        #expect(settings.endpoint(for: .ebs).absoluteString == "http://127.0.0.1:4566")
    }

    @Test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE point elsewhere")
    func filesElsewhere() throws {
        let home = try Self.home()
        let other = try Self.home(credentials: Self.files.credentials, config: Self.files.config)
        let settings = try AWSSettings.resolve(environment: ["HOME": home, "AWS_SHARED_CREDENTIALS_FILE": other + "/.aws/credentials", "AWS_CONFIG_FILE": other + "/.aws/config"])
        #expect(settings.credentials.accessKeyID == "AKIADEFAULT")
        #expect(settings.region == "eu-central-1")
    }

    @Test("AWS_REGION outranks AWS_DEFAULT_REGION, which outranks the profile")
    func regionOrder() throws {
        let home = try Self.home(credentials: Self.files.credentials, config: Self.files.config)
        #expect(try AWSSettings.resolve(environment: ["HOME": home, "AWS_REGION": "a-1", "AWS_DEFAULT_REGION": "b-2"]).region == "a-1")
        #expect(try AWSSettings.resolve(environment: ["HOME": home, "AWS_DEFAULT_REGION": "b-2"]).region == "b-2")
    }

    @Test("a per-service endpoint variable outranks AWS_ENDPOINT_URL")
    func endpointOverrides() throws {
        let home = try Self.home(credentials: Self.files.credentials, config: Self.files.config)
        let settings = try AWSSettings.resolve(environment: ["HOME": home, "AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_EBS": "http://127.0.0.1:5001"])
        #expect(settings.endpoint(for: .ec2).absoluteString == "http://127.0.0.1:5000")
        #expect(settings.endpoint(for: .sts).absoluteString == "http://127.0.0.1:5000")
        #expect(settings.endpoint(for: .iam).absoluteString == "http://127.0.0.1:5000")
        #expect(settings.endpoint(for: .ebs).absoluteString == "http://127.0.0.1:5001")
    }

    @Test("no credentials anywhere: the error says where Ferry looked and what to set")
    func noCredentials() throws {
        let home = try Self.home()
        let error = #expect(throws: AWSConfigurationError.self) { try AWSSettings.resolve(environment: ["HOME": home, "AWS_REGION": "eu-west-1"]) }
        #expect(error?.description.contains("AWS_ACCESS_KEY_ID") == true)
        #expect(error?.description.contains("\(home)/.aws/credentials") == true)
    }

    @Test("no region anywhere: the error says how to set one")
    func noRegion() throws {
        let home = try Self.home(credentials: Self.files.credentials)
        let error = #expect(throws: AWSConfigurationError.self) { try AWSSettings.resolve(environment: ["HOME": home]) }
        #expect(error == .noRegion(profile: "default"))
    }

    @Test("a named profile that exists nowhere is an error, not a silent fallback")
    func missingProfile() throws {
        let home = try Self.home(credentials: Self.files.credentials, config: Self.files.config)
        #expect(throws: AWSConfigurationError.self) { try AWSSettings.resolve(environment: ["HOME": home, "AWS_PROFILE": "prod"]) }
    }

    @Test("an endpoint that is not a URL is refused with the variable's name")
    func badEndpoint() throws {
        let home = try Self.home(credentials: Self.files.credentials, config: Self.files.config)
        #expect(throws: AWSConfigurationError.invalidEndpoint(variable: "AWS_ENDPOINT_URL_EC2", value: "localhost")) {
            try AWSSettings.resolve(environment: ["HOME": home, "AWS_ENDPOINT_URL_EC2": "localhost"])
        }
    }

    @Test("the adapter's options outrank the environment")
    func adapterOptions() throws {
        let home = try Self.home(credentials: Self.files.credentials, config: Self.files.config)
        let adapter = AWSTargetAdapter(environment: ["HOME": home, "AWS_REGION": "us-east-1"], options: ["profile": "dev", "region": "sa-east-1", "endpoint-url": "http://127.0.0.1:9"])
        let settings = try adapter.settings()
        #expect(settings.credentials.accessKeyID == "AKIADEV")
        #expect(settings.region == "sa-east-1")
        #expect(settings.endpoint(for: .sts).absoluteString == "http://127.0.0.1:9")
    }
}

/// The adapter registers with exactly the capabilities it implements.
@Suite struct AWSAdapterRegistrationTests {
    @Test("the registry accepts the adapter and hands out each declared capability")
    func registers() throws {
        var registry = AdapterRegistry()
        try registry.register(AWSTargetAdapter(environment: [:]))
        #expect(registry.adapters(kind: .target).map(\.name) == ["aws"])
        _ = try registry.networking(of: "aws")
        _ = try registry.identity(of: "aws")
        _ = try registry.volumeImport(of: "aws")
        _ = try registry.images(of: "aws")
        _ = try registry.compute(of: "aws")
        #expect(try registry.volumeImport(of: "aws").supportsIncrementalImport)
    }
}
