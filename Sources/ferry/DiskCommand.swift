import ArgumentParser

struct DiskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk",
        abstract: "Disks of source machines: inspect them, export them to raw, VMDK or qcow2.",
        subcommands: [DiskInspectCommand.self, DiskExportCommand.self]
    )
}
