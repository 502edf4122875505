import FerryKit

/// Clouds that speak the AWS wire protocols: EC2 Query API, EBS direct APIs, IAM, STS.
public struct AWSTargetAdapter: Adapter {
    public init() {}

    public let descriptor = AdapterDescriptor(
        name: "aws",
        kind: .target,
        version: "0.1.0",
        summary: "AWS and AWS-compatible clouds over EC2, EBS direct APIs, IAM and STS (SigV4)",
        capabilities: [],
        options: [
            AdapterOption(name: "region", type: .string, help: "region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)"),
            AdapterOption(name: "profile", type: .string, help: "profile in ~/.aws/config (default: AWS_PROFILE or 'default')"),
            AdapterOption(name: "endpoint-url", type: .string, help: "endpoint override (default: AWS_ENDPOINT_URL)"),
        ],
        availability: .unavailable(reason: "the EC2/EBS/IAM/STS client is not built yet (issue 6)")
    )
}
