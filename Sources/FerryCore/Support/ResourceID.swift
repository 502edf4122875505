/// Identifiers shaped like a cloud's: a prefix, a dash and 17 lowercase hexadecimal digits.
public enum ResourceID {
    public static func make(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(prefix: prefix, using: &generator)
    }

    public static func make<G: RandomNumberGenerator>(prefix: String, using generator: inout G) -> String {
        let digits = Array("0123456789abcdef")
        let suffix = String((0..<17).map { _ in digits[Int(generator.next() % 16)] })
        return "\(prefix)-\(suffix)"
    }

    /// Whether `id` has the shape `make(prefix:)` produces.
    public static func isValid(_ id: String, prefix: String) -> Bool {
        guard id.hasPrefix(prefix + "-") else { return false }
        let suffix = id.dropFirst(prefix.count + 1)
        return suffix.count == 17 && suffix.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
