/// An error that says the resource asked for does not exist (EC2's `*.NotFound`, IAM's
/// `NoSuchEntity`, the sandbox's own). Destroy treats such a resource as already removed,
/// so adapters say it with this protocol rather than in words to be guessed from.
public protocol ResourceNotFoundError: Error {
    var isResourceNotFound: Bool { get }
}
