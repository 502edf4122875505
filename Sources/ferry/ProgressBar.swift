/// A bar of how much is done, for the replication's progress: `[█████░░░░░░░]  42%`.
enum ProgressBar {
    static func draw(_ fraction: Double, width: Int = 20) -> String {
        let done = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        let filled = Int((done * Double(width)).rounded(.down))
        let percent = Int((done * 100).rounded(.down))
        let number = String(repeating: " ", count: max(0, 3 - String(percent).count)) + "\(percent)%"
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "] " + number
    }
}
