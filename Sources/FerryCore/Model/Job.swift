import Foundation

/// A unit of migration work (a test launch, a cutover, a finalize) and what happened during it.
public struct Job: Codable, Hashable, Sendable, Identifiable {
    /// "mgnjob-" followed by 17 hexadecimal digits.
    public var id: String
    public var kind: JobKind
    public var status: JobStatus
    public var sourceServerIDs: [String]
    public var createdAt: Date
    public var endedAt: Date?

    public init(
        id: String = ResourceID.make(prefix: "mgnjob"), kind: JobKind, status: JobStatus = .pending,
        sourceServerIDs: [String], createdAt: Date = Date(), endedAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.sourceServerIDs = sourceServerIDs
        self.createdAt = createdAt
        self.endedAt = endedAt
    }
}

public enum JobKind: String, Codable, Hashable, Sendable, CaseIterable {
    case launchTest = "LAUNCH_TEST"
    case launchCutover = "LAUNCH_CUTOVER"
    case terminate = "TERMINATE"
    case finalize = "FINALIZE"
}

public enum JobStatus: String, Codable, Hashable, Sendable, CaseIterable {
    case pending = "PENDING"
    case started = "STARTED"
    case completed = "COMPLETED"
    case failed = "FAILED"
}

/// One line of a job's log ("Snapshot taken", "Conversion started", "Launched i-…").
public struct JobEvent: Codable, Hashable, Sendable {
    public var jobID: String
    public var sourceServerID: String?
    public var at: Date
    public var event: String
    public var detail: String

    public init(jobID: String, sourceServerID: String? = nil, at: Date = Date(), event: String, detail: String = "") {
        self.jobID = jobID
        self.sourceServerID = sourceServerID
        self.at = at
        self.event = event
        self.detail = detail
    }
}
