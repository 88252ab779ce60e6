// A throwaway PostgreSQL server for tests (Debian's `postgresql`).
import Foundation
import ProcessSpawn

#if canImport(Glibc)
import Glibc
#endif

/// `postgres` on a free loopback port with a fresh data directory (trust authentication,
/// user `hikyaku`, database `hikyaku`), as hikyaku_testsupport/postgres.py starts it for the
/// integration tests:
///
/// ```
/// runuser -u postgres -- initdb -D DIR/data -U hikyaku --auth=trust
/// setpriv --reuid=postgres … -- postgres -D DIR/data -h 127.0.0.1 -p N -k DIR -c fsync=off
/// ```
///
/// As root (the build machines) both run as the `postgres` user, which initdb requires.
/// `stop()` asks for a fast shutdown (SIGINT), then kills; the directory is removed.
public final class PostgresServerProcess: @unchecked Sendable {
    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    public let port: Int
    private let directory: String
    private let process: Subprocess

    /// `postgres://hikyaku@127.0.0.1:PORT/hikyaku?sslmode=disable`.
    public var url: String { "postgres://hikyaku@127.0.0.1:\(port)/hikyaku?sslmode=disable" }

    public static func start() async throws -> PostgresServerProcess {
        guard let bin = binDirectory() else {
            throw StartError(description: "PostgreSQL is not installed (scripts/install-deps.sh installs Debian's postgresql)")
        }
        var template = Array("/tmp/hikyaku-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StartError(description: "mkdtemp failed: \(errno)") }
        let directory = String(cString: made)
        var initdbPrefix: [String] = []
        var serverPrefix: [String] = []
        if geteuid() == 0, let user = getpwnam("postgres") {
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
            initdbPrefix = ["runuser", "-u", "postgres", "--"]
            serverPrefix = ["setpriv", "--reuid=\(user.pointee.pw_uid)", "--regid=\(user.pointee.pw_gid)", "--init-groups", "--"]
        }
        let initdb = try await Subprocess.run(
            initdbPrefix + ["\(bin)/initdb", "-D", "\(directory)/data", "-U", "hikyaku", "--auth=trust", "-E", "UTF8", "--no-locale"])
        guard initdb.status == 0 else { throw StartError(description: "initdb failed: \(initdb.standardError)") }
        let port = try RedisServerProcess.freeLoopbackPort()
        let process = try Subprocess.start(
            serverPrefix + [
                "\(bin)/postgres", "-D", "\(directory)/data", "-h", "127.0.0.1", "-p", String(port), "-k", directory,
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            ], standardOutput: "/dev/null", standardError: "\(directory)/postgres.log")
        let server = PostgresServerProcess(port: port, directory: directory, process: process)
        for _ in 0..<400 {
            if process.poll() != nil { break }
            let create = try await Subprocess.run([
                "\(bin)/psql", "-h", directory, "-p", String(port), "-U", "hikyaku", "-d", "postgres", "-X", "-q", "-c",
                "CREATE DATABASE hikyaku",
            ])
            if create.status == 0 { return server }
            try await Task.sleep(for: .milliseconds(50))
        }
        let log = (try? String(contentsOfFile: "\(directory)/postgres.log", encoding: .utf8)) ?? ""
        server.stop()
        throw StartError(description: "postgres on port \(port) did not start: \(log.suffix(500))")
    }

    private init(port: Int, directory: String, process: Subprocess) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    deinit { stop() }

    /// Fast shutdown (SIGINT), up to 10 s, then SIGKILL; removes the data. Safe to call twice.
    public func stop() {
        process.signal(SIGINT)
        for _ in 0..<200 where process.poll() == nil { usleep(50_000) }
        process.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The newest /usr/lib/postgresql/<version>/bin with a `postgres`.
    static func binDirectory() -> String? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.compactMap { Int($0) }.sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/postgres") }
    }
}
