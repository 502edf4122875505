/// The stages of a test or cutover launch, as a job's log names them: the way a migration reads
/// (virt-v2v's open → inspect → convert → copy → create, MGN's job log). A target with its own
/// converter instance imports before it converts (the instance converts the imported volume);
/// for any other the disk is converted on this machine first and then imported.
public enum LaunchStage: String, CaseIterable, Sendable {
    /// The point in time to launch from: the latest snapshot, or the one asked for.
    case selectSnapshot = "select snapshot"
    /// The converter looks at a copy of the root disk: the OS, kernels, bootloader, network, and
    /// whether it can convert it; a machine it cannot convert is refused here, before anything
    /// is created.
    case inspect = "inspect"
    /// Each disk of the snapshot becomes a volume of the target.
    case importVolumes = "import"
    /// The machine is made to boot on the target: drivers in the initramfs, file systems and
    /// root by UUID, DHCP on the target's NIC, the source's hypervisor tools off.
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
        case .inspect: return "検査"
        case .importVolumes: return "インポート"
        case .convert: return "変換"
        case .registerImage: return "イメージの登録"
        case .launchInstance: return "起動"
        case .verify: return "確認"
        }
    }
}
