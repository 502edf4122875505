/// The resolved settings and the service clients built on them, shared by every capability.
final class AWSConnection: Sendable {
    let settings: AWSSettings
    let tuning: AWSTuning
    let http: AWSHTTPClient
    let sts: STSClient
    let ec2: EC2Client
    let ebs: EBSClient
    let iam: IAMClient

    init(settings: AWSSettings, tuning: AWSTuning) {
        self.settings = settings
        self.tuning = tuning
        http = AWSHTTPClient(settings: settings, retry: tuning.retry, timeout: tuning.requestTimeout, maxConnections: tuning.uploadConcurrency * 2)
        sts = STSClient(http: http)
        ec2 = EC2Client(http: http)
        ebs = EBSClient(http: http)
        iam = IAMClient(http: http)
    }
}

/// Knobs that change how Ferry talks to the cloud, not what it does.
public struct AWSTuning: Sendable {
    public var retry: RetryPolicy
    /// Seconds before a request without an answer is given up (and retried).
    public var requestTimeout: Double
    /// PutSnapshotBlock requests in flight at once.
    public var uploadConcurrency: Int
    /// How often and how long to poll while waiting for a state.
    public var pollInterval: Double
    public var waitTimeout: Double

    public init(retry: RetryPolicy = .standard, requestTimeout: Double = 60, uploadConcurrency: Int = 8, pollInterval: Double = 2, waitTimeout: Double = 600) {
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.uploadConcurrency = uploadConcurrency
        self.pollInterval = pollInterval
        self.waitTimeout = waitTimeout
    }
}
