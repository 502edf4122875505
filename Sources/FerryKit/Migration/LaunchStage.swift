/// The stages of a test or cutover launch, in order, as a job's log names them: the way a
/// migration reads (virt-v2v's open → inspect → convert → copy → create, MGN's job log).
public enum LaunchStage: String, CaseIterable, Sendable {
    /// The point in time to launch from: the latest snapshot, or the one asked for.
    case selectSnapshot = "select snapshot"
    /// Each disk of the snapshot becomes a volume of the target.
    case importVolumes = "import"
    /// Where the machine is made to boot on the target. There is no converter yet: the stage
    /// records that the disks are launched as they were replicated.
    case convert = "convert"
    /// An image of the imported volumes, with the source's boot mode.
    case registerImage = "register"
    /// The instance, from the image and the launch settings.
    case launchInstance = "launch"
    /// Where the instance can be reached from here, if anywhere.
    case verify = "verify"

    /// The stage's name in Japanese, for the person watching.
    public var japaneseName: String {
        switch self {
        case .selectSnapshot: return "スナップショットの選択"
        case .importVolumes: return "インポート"
        case .convert: return "変換"
        case .registerImage: return "イメージの登録"
        case .launchInstance: return "起動"
        case .verify: return "確認"
        }
    }
}
