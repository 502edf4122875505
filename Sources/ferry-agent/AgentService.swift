import Foundation

/// The agent as a system service, so that it comes back after a reboot or a crash: a systemd
/// unit with `Restart=always` where systemd runs, else a SysV init script whose loop restarts
/// the agent when it exits.
enum AgentService {
    case systemd
    case sysvinit

    static let name = "ferry-agent"

    /// The service manager of this machine, or nil when it has none the agent knows.
    static func detect() -> AgentService? {
        if FileManager.default.fileExists(atPath: "/run/systemd/system") { return .systemd }
        if FileManager.default.fileExists(atPath: "/etc/init.d") { return .sysvinit }
        return nil
    }

    var file: URL {
        switch self {
        case .systemd: URL(fileURLWithPath: "/etc/systemd/system/\(Self.name).service")
        case .sysvinit: URL(fileURLWithPath: "/etc/init.d/\(Self.name)")
        }
    }

    func install(server: String) throws {
        switch self {
        case .systemd:
            try Self.unit(server: server).write(to: file, atomically: true, encoding: .utf8)
            try run("systemctl", "daemon-reload")
            try run("systemctl", "enable", "--now", "\(Self.name).service")
        case .sysvinit:
            try Self.initScript(server: server).write(to: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
            for level in 2...5 {
                let link = "/etc/rc\(level).d/S90\(Self.name)"
                try? FileManager.default.removeItem(atPath: link)
                try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file.path)
            }
            try run(file.path, "start")
        }
    }

    func remove() {
        switch self {
        case .systemd:
            try? run("systemctl", "disable", "--now", "\(Self.name).service")
            try? FileManager.default.removeItem(at: file)
            try? run("systemctl", "daemon-reload")
        case .sysvinit:
            try? run(file.path, "stop")
            for level in 2...5 { try? FileManager.default.removeItem(atPath: "/etc/rc\(level).d/S90\(Self.name)") }
            try? FileManager.default.removeItem(at: file)
        }
    }

    /// "active", "inactive", "failed"… as the service manager says.
    func state() -> String {
        switch self {
        case .systemd:
            return (try? output("systemctl", "is-active", "\(Self.name).service"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        case .sysvinit:
            return (try? output(file.path, "status"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        }
    }

    static func unit(server: String) -> String {
        """
        [Unit]
        Description=Ferry replication agent (replicates this machine's disks to \(server))
        Wants=network-online.target
        After=network-online.target

        [Service]
        ExecStart=\(AgentInstallation.binary.path) run
        Restart=always
        RestartSec=5
        # Replication yields to the machine's own work.
        Nice=5
        IOSchedulingClass=best-effort
        IOSchedulingPriority=7

        [Install]
        WantedBy=multi-user.target

        """
    }

    static func initScript(server: String) -> String {
        """
        #!/bin/sh
        ### BEGIN INIT INFO
        # Provides:          ferry-agent
        # Required-Start:    $network $remote_fs
        # Required-Stop:     $network $remote_fs
        # Default-Start:     2 3 4 5
        # Default-Stop:      0 1 6
        # Short-Description: Ferry replication agent (to \(server))
        ### END INIT INFO
        PIDFILE=/run/ferry-agent.pid
        LOG=/var/log/ferry-agent.log
        case "$1" in
          start)
            [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && exit 0
            # The loop restarts the agent when it exits, as systemd's Restart=always would.
            ( while :; do \(AgentInstallation.binary.path) run >>"$LOG" 2>&1; sleep 5; done ) &
            echo $! > "$PIDFILE" ;;
          stop)
            [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null
            pkill -f "\(AgentInstallation.binary.path) run" 2>/dev/null
            rm -f "$PIDFILE" ;;
          status)
            if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then echo active; else echo inactive; exit 3; fi ;;
          restart) "$0" stop; "$0" start ;;
          *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
        esac

        """
    }

    private func run(_ command: String, _ arguments: String...) throws {
        _ = try Self.execute(command, arguments)
    }

    private func output(_ command: String, _ arguments: String...) throws -> String {
        try Self.execute(command, arguments, allowFailure: true)
    }

    @discardableResult
    static func execute(_ command: String, _ arguments: [String], allowFailure: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command.hasPrefix("/") ? command : "/usr/bin/env")
        process.arguments = command.hasPrefix("/") ? arguments : [command] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if process.terminationStatus != 0 && !allowFailure {
            throw AgentCommandError("\(command) \(arguments.joined(separator: " ")) failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return text
    }
}
