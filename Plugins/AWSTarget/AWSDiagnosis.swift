import FerryCore

/// What `ferry doctor` reports: each check with what was found or what is wrong.
public struct AWSDiagnosis: Codable, Sendable {
    public struct Check: Codable, Sendable {
        public var name: String
        public var ok: Bool
        public var detail: String
    }

    public var checks: [Check]
    public var identity: CallerIdentity?

    public var ok: Bool { checks.allSatisfy(\.ok) }
}

extension AWSTargetAdapter {
    /// Checks credentials, region and endpoint reachability by calling STS GetCallerIdentity.
    public func diagnose() async -> AWSDiagnosis {
        var checks: [AWSDiagnosis.Check] = []
        let settings: AWSSettings
        do {
            settings = try self.settings()
        } catch {
            let text = "\(error)"
            let name = text.contains("region") && !text.contains("credentials") ? "region" : "credentials"
            return AWSDiagnosis(checks: [.init(name: name, ok: false, detail: text)], identity: nil)
        }
        checks.append(.init(name: "credentials", ok: true, detail: settings.credentials.description))
        checks.append(.init(name: "region", ok: true, detail: settings.region))
        let endpoint = settings.endpoint(for: .sts).absoluteString
        do {
            let identity = try await callerIdentity()
            checks.append(.init(name: "endpoint", ok: true, detail: "\(endpoint) answers"))
            checks.append(.init(name: "identity", ok: true, detail: "account \(identity.account), \(identity.arn)"))
            return AWSDiagnosis(checks: checks, identity: identity)
        } catch let error as AWSTransportError {
            checks.append(.init(name: "endpoint", ok: false, detail: error.description))
        } catch let error as AWSError {
            checks.append(.init(name: "endpoint", ok: true, detail: "\(endpoint) answers"))
            checks.append(.init(name: "identity", ok: false, detail: error.description))
        } catch {
            checks.append(.init(name: "endpoint", ok: false, detail: "\(endpoint): \(error)"))
        }
        return AWSDiagnosis(checks: checks, identity: nil)
    }
}
