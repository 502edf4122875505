/// What was asked cannot be done, though it was asked correctly: one line on stderr and
/// status 1, without the usage text that ArgumentParser's `ValidationError` prints.
struct CommandRefusal: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
