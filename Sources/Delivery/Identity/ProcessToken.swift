import Foundation

/// What a process writes into the lease on its identity (`node:<name>` in Redis), so a
/// later process can tell whether the holder is still alive without waiting for the lease
/// to lapse: `v1:<boot id>:<pid namespace>:<pid>:<start time>:<random>`.
///
/// On Linux the kernel's boot id, the PID namespace and the process start time (field 22
/// of `/proc/<pid>/stat`, clock ticks since boot) name one process for the life of the
/// machine: a PID that no longer exists, or is now another process (a different start
/// time), proves the holder dead. A holder on another machine, in another PID namespace or
/// on a system without `/proc` cannot be judged, and the lease is left to lapse.
struct ProcessToken: Sendable, Equatable {
    var bootID: String
    var pidNamespace: String
    var pid: Int32
    var startTime: String
    var nonce: String

    /// Whether a holder is known to be alive.
    enum Liveness: Equatable { case alive, dead, unknown }

    var text: String { ["v1", bootID, pidNamespace, String(pid), startTime, nonce].joined(separator: ":") }

    init(bootID: String, pidNamespace: String, pid: Int32, startTime: String, nonce: String) {
        self.bootID = bootID
        self.pidNamespace = pidNamespace
        self.pid = pid
        self.startTime = startTime
        self.nonce = nonce
    }

    init?(text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "v1", let pid = Int32(parts[3]) else { return nil }
        self.init(bootID: parts[1], pidNamespace: parts[2], pid: pid, startTime: parts[4], nonce: parts[5])
    }

    /// This process.
    static func current(system: ProcessTable = .live) -> ProcessToken {
        let pid = system.currentPID()
        return ProcessToken(
            bootID: system.bootID() ?? "-", pidNamespace: system.pidNamespace() ?? "-", pid: pid,
            startTime: system.startTime(pid) ?? "-",
            nonce: String(UInt64.random(in: 0...UInt64.max), radix: 36))
    }

    /// Whether the process `holder` names is alive, as seen from `system`.
    static func liveness(of holder: String, system: ProcessTable = .live) -> Liveness {
        guard let token = ProcessToken(text: holder), token.bootID != "-", token.pidNamespace != "-",
            token.bootID == system.bootID(), token.pidNamespace == system.pidNamespace()
        else { return .unknown }
        guard let start = system.startTime(token.pid) else { return .dead }
        return start == token.startTime ? .alive : .dead
    }
}

/// The few facts about processes `ProcessToken` reads (a value, so tests can fake them).
struct ProcessTable: Sendable {
    var currentPID: @Sendable () -> Int32
    var bootID: @Sendable () -> String?
    var pidNamespace: @Sendable () -> String?
    /// The start time of a process, or nil when there is none with that PID.
    var startTime: @Sendable (Int32) -> String?

    static let live = ProcessTable(
        currentPID: { getpid() },
        bootID: {
            (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "")
        },
        pidNamespace: {
            // "pid:[4026531836]" → "4026531836"
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid"))?.filter(\.isNumber)
        },
        startTime: { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
            return startTime(fromStat: stat)
        })

    /// Field 22 of `/proc/<pid>/stat` (proc(5)); the command name (field 2, in
    /// parentheses) may hold spaces and parentheses, so count from the last `)`.
    static func startTime(fromStat stat: String) -> String? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field 22 is fields[19].
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
