/// Every adapter, source or target, built in or external, starts here: it describes itself.
/// What it can do is expressed by the capability protocols it also conforms to.
public protocol Adapter: Sendable {
    var descriptor: AdapterDescriptor { get }
}

extension Adapter {
    public var name: String { descriptor.name }

    /// Throws `AdapterError.unavailable` when the adapter's work is not built yet.
    public func requireAvailable() throws(AdapterError) {
        if case .unavailable(let reason) = descriptor.availability {
            throw .unavailable(adapter: descriptor.name, reason: reason)
        }
    }
}
