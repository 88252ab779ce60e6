import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `nameserver` lines of resolv.conf(5).
enum ResolvConf {
    /// The nameservers of a resolv.conf text, port 53, in order. Comments (`#`, `;`),
    /// other keywords and addresses that do not parse are ignored; a link-local IPv6
    /// address may carry a `%zone` suffix naming an existing interface.
    static func nameservers(in contents: String) -> [SocketAddress] {
        var servers: [SocketAddress] = []
        for line in contents.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { continue }
            if let address = try? SocketAddress(ipAddress: String(fields[1]), port: DNSResolverConfiguration.defaultPort) {
                servers.append(address)
            }
        }
        return servers
    }

    /// The contents of the file at `path`, `nil` if it cannot be read. Blocking.
    static func contents(ofFile path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
