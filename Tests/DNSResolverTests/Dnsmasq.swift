// A launcher for dnsmasq as a test DNS server (the process itself: ProcessSpawn).
//
//     let dns = try Dnsmasq.start(["--local=/test/",
//                                  "--mx-host=example.test,mx.example.test,10",
//                                  "--host-record=mx.example.test,127.0.0.2"])
//     defer { dns.stop() }
//     // query 127.0.0.1:\(dns.port) over UDP or TCP
//     #expect(dns.queryCount(type: "MX", name: "example.test") == 1)
//
// dnsmasq runs in the foreground as a child process on 127.0.0.1 and a free port, with no
// upstream servers, no /etc/hosts and no configuration file, so it answers only from the
// options given. Useful options: `--local=/test/` (answer NXDOMAIN/NODATA for the zone
// instead of REFUSED), `--mx-host=domain,host,pref`, `--host-record=name,ipv4[,ipv6]`,
// `--cname=alias,target`, `--address=/nx.test/` (NXDOMAIN for a whole domain),
// `--dns-rr=name,type,hexdata` (any record), `--local-ttl=N` (TTL of local records,
// default 0). Every query it receives is logged to a private file; `queries()` reads them.
//
// The child is started by ProcessSpawn's `Subprocess` (posix_spawn, empty signal mask),
// stopped with SIGKILL and reaped.

import Foundation
import ProcessSpawn

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class Dnsmasq: @unchecked Sendable {
    static let executable = "/usr/sbin/dnsmasq"

    enum LaunchError: Error, CustomStringConvertible {
        case notInstalled
        case failedToStart(String)

        var description: String {
            switch self {
            case .notInstalled: return "\(Dnsmasq.executable) is not installed (apt-get install dnsmasq)"
            case .failedToStart(let output): return "dnsmasq failed to start: \(output)"
            }
        }
    }

    /// The loopback port dnsmasq listens on (UDP and TCP).
    let port: Int
    let host = "127.0.0.1"
    private let process: Subprocess
    private let directory: String
    private let lock = NSLock()
    private var running = true

    private init(port: Int, process: Subprocess, directory: String) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    deinit {
        self.stop()
    }

    /// Starts dnsmasq with `options` and waits until it accepts TCP connections.
    static func start(_ options: [String]) throws -> Dnsmasq {
        guard access(Self.executable, X_OK) == 0 else { throw LaunchError.notInstalled }
        var lastOutput = ""
        for _ in 0..<5 {
            let port = try Self.freePort()
            let directory = NSTemporaryDirectory() + "dnsmasq-\(getpid())-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let arguments =
                [
                    Self.executable,
                    "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                    "--listen-address=127.0.0.1", "--port=\(port)", "--user=root",
                    "--conf-file=/dev/null", "--pid-file=\(directory)/pid",
                    "--log-queries", "--log-facility=\(directory)/queries.log",
                ] + options
            let process: Subprocess
            do {
                process = try Subprocess.start(arguments, standardOutput: "/dev/null", standardError: "\(directory)/stderr.log")
            } catch {
                throw LaunchError.failedToStart("\(error)")
            }
            if Self.waitUntilListening(port: port, process: process) {
                return Dnsmasq(port: port, process: process, directory: directory)
            }
            process.terminate()
            lastOutput = (try? String(contentsOfFile: "\(directory)/stderr.log", encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: directory)
            // A port taken between choosing it and binding: try another one.
            guard lastOutput.contains("in use") else { break }
        }
        throw LaunchError.failedToStart(lastOutput)
    }

    /// Stops dnsmasq and removes its files. Safe to call more than once.
    func stop() {
        self.lock.lock()
        defer { self.lock.unlock() }
        guard self.running else { return }
        self.running = false
        self.process.terminate()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// The queries dnsmasq has received so far, as `(type, name)` pairs in arrival order,
    /// e.g. `("MX", "example.test")`, from its `--log-queries` lines
    /// `query[MX] example.test from 127.0.0.1`.
    func queries() -> [(type: String, name: String)] {
        guard let text = try? String(contentsOfFile: "\(self.directory)/queries.log", encoding: .utf8) else { return [] }
        var result: [(type: String, name: String)] = []
        for line in text.split(separator: "\n") {
            guard let start = line.range(of: "query[") else { continue }
            let rest = line[start.upperBound...]
            guard let close = rest.firstIndex(of: "]") else { continue }
            let type = String(rest[..<close])
            let name = rest[rest.index(after: close)...].split(separator: " ").first.map(String.init) ?? ""
            result.append((type, name))
        }
        return result
    }

    /// How many queries of `type` for `name` dnsmasq has received.
    func queryCount(type: String, name: String) -> Int {
        self.queries().filter { $0.type == type && $0.name.lowercased() == name.lowercased() }.count
    }

    // MARK: - Process handling

    // MARK: - Sockets

    /// A port that is free for both UDP and TCP on 127.0.0.1 at the time of asking.
    private static func freePort() throws -> Int {
        for _ in 0..<20 {
            let udp = try Self.bindLoopback(type: Self.datagram, port: 0)
            defer { close(udp.fd) }
            guard let tcp = try? Self.bindLoopback(type: Self.stream, port: udp.port) else { continue }
            close(tcp.fd)
            return udp.port
        }
        throw LaunchError.failedToStart("no free port found")
    }

    #if canImport(Glibc)
    private static let datagram = Int32(SOCK_DGRAM.rawValue)
    private static let stream = Int32(SOCK_STREAM.rawValue)
    #else
    private static let datagram = SOCK_DGRAM
    private static let stream = SOCK_STREAM
    #endif

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func bindLoopback(type: Int32, port: Int) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw LaunchError.failedToStart("socket() failed") }
        var address = Self.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw LaunchError.failedToStart("port \(port) busy")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Polls a TCP connect to the port for up to 10 s while the process is alive.
    private static func waitUntilListening(port: Int, process: Subprocess) -> Bool {
        for _ in 0..<200 {
            guard process.poll() == nil else { return false }
            let fd = socket(AF_INET, Self.stream, 0)
            var address = Self.loopback(port: port)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if connected == 0 { return process.poll() == nil }
            usleep(50_000)
        }
        return false
    }
}
