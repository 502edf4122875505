/// What is wrong with the local AWS settings, and how to fix it.
public enum AWSConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case noCredentials(profile: String, searched: [String])
    case incompleteCredentials(source: String, missing: String)
    case profileNotFound(profile: String, files: [String])
    case noRegion(profile: String)
    case invalidEndpoint(variable: String, value: String)
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .noCredentials(let profile, let searched):
            return "no AWS credentials found (looked in: \(searched.joined(separator: ", ")); profile '\(profile)'): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add the profile to ~/.aws/credentials"
        case .incompleteCredentials(let source, let missing):
            return "AWS credentials in \(source) lack \(missing)"
        case .profileNotFound(let profile, let files):
            return "AWS profile '\(profile)' is in none of \(files.joined(separator: ", ")): check AWS_PROFILE or --profile"
        case .noRegion(let profile):
            return "no AWS region set: set AWS_REGION (or AWS_DEFAULT_REGION), or 'region' in profile '\(profile)' of ~/.aws/config"
        case .invalidEndpoint(let variable, let value):
            return "\(variable) is not a usable URL: '\(value)' (expected e.g. http://127.0.0.1:5000 or https://ec2.eu-west-1.amazonaws.com)"
        case .unreadableFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        }
    }
}
