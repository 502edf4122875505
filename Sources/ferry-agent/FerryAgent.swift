import ArgumentParser

/// `ferry-agent`: the replication agent that runs on the source machine itself. The installer
/// (`GET /installer` on the replication server) downloads it and runs `ferry-agent install`;
/// from then on a system service runs `ferry-agent run`. It is built with the Swift runtime
/// linked in (--static-swift-stdlib), so the machine needs no Swift, and it links no library
/// a plain Linux lacks: TLS is BoringSSL compiled in, the facts come from /proc and /sys.
@main
struct FerryAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry-agent",
        abstract: "The Ferry replication agent: replicates this machine's disks to the project's replication server.",
        discussion: """
        Installed by the installer the replication server hands out: `ferry agent token` on the workbench prints the command. Once installed, it is /usr/local/bin/ferry-agent. As root:
          ferry-agent install --server HOST:1500 --pin sha256//…   (token in FERRY_AGENT_TOKEN)
          ferry-agent status
          ferry-agent uninstall
        """,
        subcommands: [InstallCommand.self, RunCommand.self, StatusCommand.self, UninstallCommand.self, FactsCommand.self]
    )
}
