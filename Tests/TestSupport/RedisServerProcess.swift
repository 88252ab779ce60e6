// A throwaway redis-server for tests.
import Foundation
import ProcessSpawn

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `redis-server` child process on a free loopback port, with no persistence:
///
/// ```
/// redis-server --port N --bind 127.0.0.1 --save '' --appendonly no --daemonize no [extra…]
/// ```
///
/// ```
/// let server = try await RedisServerProcess.start()
/// defer { server.stop() }
/// … connect to server.url …
/// server.stop(); try await server.restart()     // kill -9 and start again on the same port
/// ```
///
/// `start()` waits until the server answers `PING` (`+PONG`, or `-NOAUTH` under
/// `--requirepass`). `stop()` kills it with SIGKILL (no shutdown handshake, as in a
/// crash) and reaps it; `deinit` does the same, so a forgotten `stop()` leaves no
/// server behind.
public final class RedisServerProcess: @unchecked Sendable {
    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    public let host = "127.0.0.1"
    public let port: Int
    public let extraArguments: [String]

    private let lock = NSLock()
    private var process: Subprocess?
    /// Holds the server's log file (and its working directory); removed in `deinit`.
    private let directory: URL

    /// `redis://127.0.0.1:PORT`.
    public var url: String { "redis://\(host):\(port)" }

    private init(port: Int, extraArguments: [String]) throws {
        self.port = port
        self.extraArguments = extraArguments
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts a server on a free port (retrying on another port if the chosen one is taken meanwhile).
    public static func start(extraArguments: [String] = []) async throws -> RedisServerProcess {
        var lastError: Error = StartError(description: "redis-server did not start")
        for _ in 0..<5 {
            let server = try RedisServerProcess(port: try freeLoopbackPort(), extraArguments: extraArguments)
            do {
                try await server.launch()
                return server
            } catch {
                server.stop()
                lastError = error
            }
        }
        throw lastError
    }

    /// Starts the server again on the same port after ``stop()``.
    public func restart() async throws {
        stop()
        try await launch()
    }

    /// Kills the server (SIGKILL) and waits for it to exit. Safe to call twice.
    public func stop() {
        let running: Subprocess? = lock.withLock {
            defer { process = nil }
            return process
        }
        running?.terminate()
    }

    private var logFile: URL {
        directory.appendingPathComponent("redis.log")
    }

    private func launch() async throws {
        try? FileManager.default.removeItem(at: logFile)
        let child = try Subprocess.start(
            [
                Self.redisServerPath(),
                "--port", String(port), "--bind", host, "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", directory.path, "--logfile", logFile.path,
            ] + extraArguments,
            standardOutput: "/dev/null", standardError: "/dev/null")
        lock.withLock { process = child }

        // Up to ~10 s for *this* server to log that it listens and to answer PING. The log
        // line matters: if another test's server took the port meanwhile, PING alone would
        // succeed against the wrong server while this one exits with "Address already in use".
        for _ in 0..<400 {
            if log.contains("Ready to accept connections"), child.poll() == nil, Self.ping(port: port) {
                return
            }
            if let status = child.poll() {
                let lastLines = log.split(separator: "\n").suffix(3).joined(separator: " | ")
                throw StartError(description: "redis-server on port \(port) exited (status \(status)): \(lastLines)")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw StartError(description: "redis-server on port \(port) did not become ready in time")
    }

    private var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    private static func redisServerPath() -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return "/usr/bin/redis-server"
    }

    // MARK: Sockets (blocking, loopback only, test use)

    private static var streamSocketType: Int32 {
        #if canImport(Glibc) || canImport(Musl)
        Int32(SOCK_STREAM.rawValue)
        #else
        SOCK_STREAM
        #endif
    }

    private static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A port that was free a moment ago (bind to port 0, read it back, close).
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, streamSocketType, 0)
        guard fd >= 0 else { throw StartError(description: "socket() failed: \(errno)") }
        defer { close(fd) }
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw StartError(description: "bind() failed: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getsockname(fd, $0, &length)
            }
        }
        guard named == 0 else { throw StartError(description: "getsockname() failed: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a server on `port` answers `PING` (1 s I/O timeout).
    private static func ping(port: Int) -> Bool {
        let fd = socket(AF_INET, streamSocketType, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopbackAddress(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return false }
        let request = Array("PING\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return false }
        // Any reply line counts: `+PONG`, or `-NOAUTH …` when the server requires a password.
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.last != UInt8(ascii: "\n"), line.count < 256 {
            guard recv(fd, &byte, 1, 0) == 1 else { return false }
            line.append(byte)
        }
        return line.first == UInt8(ascii: "+") || line.first == UInt8(ascii: "-")
    }
}
