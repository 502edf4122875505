/// Text an action says to the learner, in the run's language. The recipes carry their own
/// translations (titles, explanations); what the actions say is written here, in code, next
/// to the English, so that neither can be changed without seeing the other.
public enum RecipeWording {
    /// The languages a run can speak (`--lang`).
    public static let languages = ["en", "ja"]

    public static func pick(_ language: String, en: String, ja: String) -> String {
        language == "ja" ? ja : en
    }

    /// Seconds as the learner reads them: "12 s", "12 秒".
    public static func seconds(_ value: Double, _ language: String, decimals: Int = 0) -> String {
        let number = String(format: "%.\(decimals)f", value)
        return pick(language, en: "\(number) s", ja: "\(number) 秒")
    }
}

extension RecipeContext {
    /// `en` or `ja`, whichever the run speaks.
    public func say(en: String, ja: String) -> String { RecipeWording.pick(language, en: en, ja: ja) }

    /// The live state of a long wait: drawn in place by the display, or, where there is none
    /// (`--output json`, a program driving the runner), said once per phase as a progress line.
    public func status(_ status: RecipeStatus, phaseChanged: Bool) {
        if let display = RecipeStatusDisplays.current {
            display.show(status, step: stepID)
        } else if phaseChanged {
            progress(status.text)
        }
    }
}
