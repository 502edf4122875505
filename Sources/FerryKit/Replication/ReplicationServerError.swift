/// Why the replication server could not start.
public enum ReplicationServerError: Error, Hashable, Sendable, CustomStringConvertible {
    case cannotListen(address: String, reason: String)
    case certificate(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let address, let reason):
            return "the replication server cannot listen on \(address): \(reason); "
                + "another process may listen there (a replication server of another workspace?), or the address is not one of this machine's: "
                + "choose another with --listen HOST:PORT"
        case .certificate(let path, let reason):
            return "the project's replication certificate at \(path) cannot be read (\(reason)); "
                + "if it was damaged, remove the folder: a new one is made, and every agent must be installed again with the new pin"
        }
    }
}
