#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loopback ports for the servers tests start as child processes.
enum LoopbackPort {
    #if canImport(Glibc)
    private static let datagram = Int32(SOCK_DGRAM.rawValue)
    private static let stream = Int32(SOCK_STREAM.rawValue)
    #else
    private static let datagram = SOCK_DGRAM
    private static let stream = SOCK_STREAM
    #endif

    /// A port free for both UDP and TCP on 127.0.0.1 when asked (dnsmasq needs both).
    static func free() -> Int {
        while true {
            let (udp, port) = Self.bind(type: Self.datagram, port: 0)
            defer { close(udp) }
            let (tcp, _) = Self.bind(type: Self.stream, port: port)
            if tcp >= 0 {
                close(tcp)
                return port
            }
        }
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds.
    static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Self.stream, 0)
        defer { close(fd) }
        var address = Self.address(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A socket bound to 127.0.0.1:`port` and its port, or -1 when the port is taken.
    private static func bind(type: Int32, port: Int) -> (Int32, Int) {
        let fd = socket(AF_INET, type, 0)
        var address = Self.address(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            return (-1, 0)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
