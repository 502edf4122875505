import FerryReplication
import Foundation

/// The command a consultant runs on a source machine to install the agent, as MGN's
/// `wget …/installer_linux.py && sudo python3 installer_linux.py -t TOKEN --no-prompt`: the
/// installer comes from the replication server over HTTPS, checked against the project's pin.
public enum AgentInstallCommand {
    /// Where the installed agent lives on a source machine.
    public static let installedAgent = "/usr/local/lib/ferry-agent/ferry-agent"

    /// The whole command, with `token` in it: for a person to paste (`ferry agent token`).
    /// The token reaches the installer through a pipe from the shell's own printf, so that it
    /// is in no command line that `ps` shows (`-t TOKEN`, as MGN's, works too). `sudo` only
    /// when the user is not root already: many machines (a minimal Debian) have no sudo.
    public static func text(server: String, pin: CertificatePin, token: String, sudo: Bool = true) -> String {
        "curl -fsS --insecure --pinnedpubkey '\(pin)' -o ferry-installer https://\(server)/installer && printf '%s\\n' '\(token)' | \(sudo ? Self.sudoUnlessRoot : "")sh ferry-installer --token-stdin --no-prompt"
    }

    static let sudoUnlessRoot = "$([ \"$(id -u)\" = 0 ] || echo sudo) "

    /// The same for a machine Ferry logs into as root, the token given on the standard input;
    /// the installer stays in root's home, for `--uninstall` (/tmp may be emptied at boot).
    public static func readingToken(server: String, pin: CertificatePin) -> String {
        "cd /root && curl -fsS --insecure --pinnedpubkey '\(pin)' -o ferry-installer https://\(server)/installer && sh ferry-installer --token-stdin --no-prompt"
    }
}
