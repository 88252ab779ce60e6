import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A program (found on `PATH`) started with posix_spawn — the one launcher of the test
/// servers (redis-server, dnsmasq) and of the simulator's helpers (openssl, swaks).
///
/// The child gets an empty signal mask and default dispositions: a test runner may block
/// or ignore signals, and a child inherits both. Standard input is /dev/null.
///
/// Foundation's `Process` is avoided: its monitor thread can deadlock when several tasks
/// start and reap processes at once (seen in this project's test suites).
public final class Subprocess: @unchecked Sendable {
    public let pid: pid_t
    /// Where standard output and error go (capture files made here, unless given).
    public let outputPath: String
    public let errorPath: String
    /// Whether those are capture files, read and removed by ``wait()``.
    private let captured: (output: Bool, error: Bool)
    private let lock = NSLock()
    /// The `waitpid` status once the child is reaped; after that its pid is never signalled.
    private var reapedStatus: Int32?

    /// The outcome of a finished program.
    public struct Output: Sendable {
        /// The exit status, or 128 + the signal number when it was killed by one.
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    private init(pid: pid_t, outputPath: String, errorPath: String, captured: (output: Bool, error: Bool)) {
        self.pid = pid
        self.outputPath = outputPath
        self.errorPath = errorPath
        self.captured = captured
    }

    /// Starts `arguments[0]` with the rest as arguments. Standard output and error go to the
    /// given paths (`/dev/null`, a log file); nil captures them for ``wait()``.
    public static func start(
        _ arguments: [String], standardOutput: String? = nil,
        standardError: String? = nil
    ) throws(SubprocessError) -> Subprocess {
        let base = NSTemporaryDirectory() + "hikyaku-spawn-\(getpid())-\(UUID().uuidString)"
        let outputPath = standardOutput ?? base + ".out"
        let errorPath = standardError ?? base + ".err"

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaultSignals, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        #if canImport(Glibc)
        var actions = posix_spawn_file_actions_t()
        #else
        var actions: posix_spawn_file_actions_t? = nil
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard result == 0 else {
            throw SubprocessError(command: arguments[0], reason: String(cString: strerror(result)))
        }
        return Subprocess(
            pid: pid, outputPath: outputPath, errorPath: errorPath,
            captured: (standardOutput == nil, standardError == nil))
    }

    /// Runs a program to its end.
    public static func run(_ arguments: [String]) async throws(SubprocessError) -> Output {
        try await Self.start(arguments).wait()
    }

    /// Sends `signal` to the program, unless it has been reaped already.
    public func signal(_ signal: Int32) {
        lock.withLock {
            if reapedStatus == nil { _ = kill(pid, signal) }
        }
    }

    /// The exit status if the program has ended (reaping it), nil while it runs.
    public func poll() -> Int32? {
        lock.withLock {
            if reapedStatus == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { reapedStatus = status }
            }
            return reapedStatus.map(Self.exitStatus)
        }
    }

    /// Kills the program (SIGKILL, as in a crash) and reaps it. Safe to call more than once.
    public func terminate() {
        lock.withLock {
            guard reapedStatus == nil else { return }
            kill(pid, SIGKILL)
            reapedStatus = Self.blockingWait(pid)
        }
    }

    /// Waits, on a thread of its own, for the program to end and collects the captured
    /// output (the capture files are removed).
    public func wait() async -> Output {
        let pid = self.pid
        let alreadyReaped = lock.withLock { reapedStatus }
        let status: Int32
        if let alreadyReaped {
            status = alreadyReaped
        } else {
            status = await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: Self.blockingWait(pid)) }
            }
            lock.withLock { reapedStatus = status }
        }
        func collect(_ path: String, _ isCaptured: Bool) -> String {
            guard isCaptured else { return "" }
            defer { unlink(path) }
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        return Output(
            status: Self.exitStatus(status), standardOutput: collect(outputPath, captured.output),
            standardError: collect(errorPath, captured.error))
    }

    private static func blockingWait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return status
    }

    /// The exit code from a `waitpid` status, or 128 + signal as a shell reports it.
    private static func exitStatus(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

/// A program that could not be started.
public struct SubprocessError: Error, Hashable, Sendable, CustomStringConvertible {
    public let command: String
    public let reason: String

    public var description: String {
        "cannot run \(self.command): \(self.reason)"
    }
}
