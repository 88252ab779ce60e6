import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program (found on `PATH`) with posix_spawn, output to files, and waits for it on
/// a thread of its own so no event loop or cooperative thread blocks.
///
/// Foundation's `Process` is avoided: its monitor thread can deadlock when several tasks
/// start and reap processes at once (seen in this project's test suites).
struct Subprocess: Sendable {
    let pid: pid_t
    /// Where the program's standard output and error go.
    let outputPath: String
    let errorPath: String

    /// The outcome of a finished program.
    struct Output: Sendable {
        /// The exit status, or 128 + the signal number when it was killed by one.
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Starts `arguments[0]` with the rest as arguments, standard input from /dev/null.
    static func start(_ arguments: [String]) throws(SubprocessError) -> Subprocess {
        let base = NSTemporaryDirectory() + "hikyaku-sim-\(getpid())-\(UUID().uuidString)"
        let outputPath = base + ".out"
        let errorPath = base + ".err"

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A child inherits blocked and ignored signals; give it the defaults.
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
        return Subprocess(pid: pid, outputPath: outputPath, errorPath: errorPath)
    }

    /// Runs a program to its end.
    static func run(_ arguments: [String]) async throws(SubprocessError) -> Output {
        try await Self.start(arguments).wait()
    }

    /// Sends `signal` to the program.
    func signal(_ signal: Int32) {
        kill(self.pid, signal)
    }

    /// Waits for the program to end and collects its output (the files are removed).
    func wait() async -> Output {
        let pid = self.pid
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        let output = Output(
            status: Self.exitStatus(status),
            standardOutput: (try? String(contentsOfFile: self.outputPath, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: self.errorPath, encoding: .utf8)) ?? "")
        unlink(self.outputPath)
        unlink(self.errorPath)
        return output
    }

    /// The exit code from a `waitpid` status, or 128 + signal as a shell reports it.
    private static func exitStatus(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

/// A program that could not be started.
struct SubprocessError: Error, Hashable, Sendable, CustomStringConvertible {
    let command: String
    let reason: String

    var description: String {
        "cannot run \(self.command): \(self.reason)"
    }
}
