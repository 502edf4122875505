/// Why the replication server could not start.
public enum ReplicationServerError: Error, Hashable, Sendable, CustomStringConvertible {
    case cannotListen(address: String, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let address, let reason):
            return "the replication server cannot listen on \(address): \(reason); "
                + "another process may listen there (a replication server of another workspace?), or the address is not one of this machine's: "
                + "choose another with --listen HOST:PORT"
        }
    }
}
