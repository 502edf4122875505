/// A span of time as people write it for snapshot retention: "90s", "10m", "1h", "7d".
public enum RetentionDuration {
    public struct Invalid: Error, CustomStringConvertible {
        public var text: String
        public var description: String { "'\(text)' is not a duration: a whole number followed by s, m, h or d (10m, 1h, 7d)" }
    }

    /// Seconds in `text`.
    public static func seconds(_ text: String) throws(Invalid) -> Int {
        let units = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let unit = text.last.map(String.init), let scale = units[unit], let number = Int(text.dropLast()), number > 0,
              number <= Int.max / scale else { throw Invalid(text: text) }
        return number * scale
    }

    /// The shortest way to write `seconds` with these units.
    public static func text(_ seconds: Int) -> String {
        for (unit, scale) in [("d", 86_400), ("h", 3600), ("m", 60)] where seconds % scale == 0 && seconds >= scale {
            return "\(seconds / scale)\(unit)"
        }
        return "\(seconds)s"
    }
}
