import FerryReplication
import Foundation

/// The installer a source machine downloads from the replication server
/// (`GET /installer`) and runs as root, as MGN's `installer_linux.py -t TOKEN --no-prompt`:
/// it checks the machine, downloads the agent from the same server with the same pin, checks
/// its SHA-256, and hands over to `ferry-agent install`, which identifies the disks, registers
/// the machine with the token and installs the service. POSIX sh rather than Python, since a
/// minimal Linux has /bin/sh and curl (or wget) but not always a Python. Nothing is written
/// outside a temporary folder before the agent has registered.
enum AgentInstallerScript {
    /// The script for a server reached at `server` (`HOST:PORT`, as the machine reaches it)
    /// whose key is `pin`, handing out an agent of `agentSHA256`.
    static func text(server: String, pin: CertificatePin, agentSHA256: String) -> String {
        template
            .replacingOccurrences(of: "@SERVER@", with: server)
            .replacingOccurrences(of: "@PIN@", with: pin.description)
            .replacingOccurrences(of: "@SHA256@", with: agentSHA256)
    }

    /// Only what a host and port may hold goes into the script: the address comes from the
    /// request's Host header, and a shell script must not carry anything else from it.
    static func isSafeAddress(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 255 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".:-[]".contains($0)) }
    }

    static let template = #"""
    #!/bin/sh
    # Ferry agent installer, from the replication server at @SERVER@.
    #   sh ferry-installer -t TOKEN [--no-prompt]     install the agent and start replicating
    #   ... --token-stdin                            read the token from the standard input (not in ps)
    #   sh ferry-installer --uninstall                 stop replicating and remove the agent
    # Run it as root on the machine to migrate. The server's certificate is pinned: the agent
    # is downloaded from, and sends its disks to, only the server holding that key.
    SERVER='@SERVER@'
    PIN='@PIN@'
    AGENT_SHA256='@SHA256@'
    INSTALLED=/usr/local/lib/ferry-agent/ferry-agent

    fail() { echo "ferry installer: $*" >&2; exit 1; }

    TOKEN=''; PROMPT=yes; ACTION=install
    while [ $# -gt 0 ]; do
        case "$1" in
            -t|--token) [ $# -ge 2 ] || fail "$1 needs the project's token (ferry agent token prints it)"; TOKEN=$2; shift 2 ;;
            --no-prompt) PROMPT=no; shift ;;
            --uninstall) ACTION=uninstall; shift ;;
            --token-stdin) IFS= read -r TOKEN || fail "--token-stdin: nothing to read"; shift ;;
            -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
            *) fail "unknown option $1 (see --help)" ;;
        esac
    done

    [ "$(uname -s)" = Linux ] || fail "this machine runs $(uname -s); the agent runs on Linux only"
    [ "$(id -u)" = 0 ] || fail "run it as root (sudo sh $0 ...): the agent reads the disks and installs a service"

    if [ "$ACTION" = uninstall ]; then
        [ -x "$INSTALLED" ] || fail "the agent is not installed on this machine (no $INSTALLED)"
        exec "$INSTALLED" uninstall
    fi

    case "$(uname -m)" in
        x86_64|amd64) ;;
        *) fail "this machine is $(uname -m); the agent is built for x86_64" ;;
    esac
    [ -n "$TOKEN" ] || fail "give the project's token with -t TOKEN (ferry agent token prints the whole command)"
    [ -d /run/systemd/system ] || [ -d /etc/init.d ] || fail "this machine has neither systemd nor /etc/init.d: the agent cannot be installed as a service"
    command -v sha256sum >/dev/null 2>&1 || fail "sha256sum is missing (coreutils)"

    if [ "$PROMPT" = yes ] && [ -t 0 ] && [ -t 1 ]; then
        printf 'Install the Ferry agent and replicate this machine to %s? [y/N] ' "$SERVER"
        read -r answer
        case "$answer" in y|Y|yes) ;; *) fail "nothing was installed" ;; esac
    fi

    WORK=$(mktemp -d /tmp/ferry-installer.XXXXXX) || fail "cannot create a temporary folder"
    trap 'rm -rf "$WORK"' EXIT INT TERM
    if command -v curl >/dev/null 2>&1; then
        # --insecure lifts the check of an authority; --pinnedpubkey still refuses any key but the project's.
        curl -fsS --insecure --pinnedpubkey "$PIN" --connect-timeout 15 -o "$WORK/ferry-agent" "https://$SERVER/agent" 2>"$WORK/curl.err" \
            || fail "cannot download the agent from https://$SERVER/agent: $(tail -n 1 "$WORK/curl.err")"
    else
        fail "curl is missing: install it, or copy the agent from https://$SERVER/agent by hand"
    fi
    echo "$AGENT_SHA256  $WORK/ferry-agent" | sha256sum -c --status - \
        || fail "the agent downloaded from $SERVER does not have the SHA-256 the installer expects; nothing was installed"
    chmod 755 "$WORK/ferry-agent"
    FERRY_AGENT_TOKEN=$TOKEN "$WORK/ferry-agent" install --server "$SERVER" --pin "$PIN"
    exit $?
    """#
}
