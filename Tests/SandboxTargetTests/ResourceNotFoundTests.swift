import FerryCore
import FerryKit
import Testing
@testable import SandboxTarget

/// Destroy treats a resource that is already gone as removed: the sandbox says so by type.
@Suite struct ResourceNotFoundTests {
    @Test func aMissingResourceSaysItIsNotFound() {
        let error: any Error = SandboxError.notFound(kind: .vpc, id: "vpc-0123456789abcdef0")
        #expect((error as? any ResourceNotFoundError)?.isResourceNotFound == true)
    }

    @Test func aResourceInUseIsNotMistakenForAGoneOne() {
        let error: any Error = SandboxError.dependencyViolation(resource: "vpc vpc-1", usedBy: ["subnet subnet-1"])
        #expect((error as? any ResourceNotFoundError)?.isResourceNotFound == false)
    }
}
