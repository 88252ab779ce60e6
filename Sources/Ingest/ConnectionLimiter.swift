import NIOCore
import RelayCore
import Synchronization

/// Concurrent SMTP sessions per client, shared by every listener of a process, so that a
/// flood of connections from one address cannot take all the sessions (and file
/// descriptors) that other clients need. Over the limit, a connection gets
/// `421 4.7.0 Too many connections from your address` and is closed at once
/// (RFC 5321 §3.1: 421 in place of the greeting).
///
/// A client is its IPv4 address, or the /64 of its IPv6 address (one end site holds a
/// whole /64). Clients in `ingest.relay_networks` are exempt, as Postfix exempts
/// `$mynetworks`: the applications a relay serves open many connections on purpose.
public final class ConnectionLimiter: Sendable {
    /// What a new connection may do.
    enum Admission: Equatable {
        /// Within the limit; release the slot of this client when the connection closes.
        case admitted(ClientKey)
        /// In an exempt network: not counted.
        case exempt
        /// Over the limit: refuse.
        case refused
    }

    private let exemptNetworks: [IPNetwork]
    private let counts: Mutex<ConnectionCounts>

    public init(maximumPerClient: Int, exemptNetworks: [IPNetwork]) {
        self.exemptNetworks = exemptNetworks
        self.counts = Mutex(ConnectionCounts(maximumPerClient: maximumPerClient))
    }

    /// Takes a slot for the connection from `address`. A connection without a usable IP
    /// address (e.g. a Unix socket) is not counted.
    func admit(_ address: SocketAddress?) -> Admission {
        guard let text = address?.ipAddress, let bytes = IPNetwork.parseAddress(text) else { return .exempt }
        if self.exemptNetworks.contains(where: { $0.contains(addressBytes: bytes) }) {
            return .exempt
        }
        let key = ClientKey(addressBytes: bytes)
        return self.counts.withLock { $0.acquire(key) } ? .admitted(key) : .refused
    }

    /// Gives back the slot of an admitted connection that has closed.
    func release(_ key: ClientKey) {
        self.counts.withLock { $0.release(key) }
    }

    /// Open connections counted for `address` (for tests and diagnostics).
    func count(for address: String) -> Int {
        guard let bytes = IPNetwork.parseAddress(address) else { return 0 }
        return self.counts.withLock { $0.count(for: ClientKey(addressBytes: bytes)) }
    }
}

/// Whom a connection is counted against: an IPv4 address (also when it arrives as an
/// IPv4-mapped IPv6 address on a dual-stack listener), or an IPv6 /64.
struct ClientKey: Hashable, Sendable {
    let prefix: [UInt8]

    init(addressBytes bytes: [UInt8]) {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            self.prefix = Array(bytes[12..<16])
        } else if bytes.count == 16 {
            self.prefix = Array(bytes[0..<8])
        } else {
            self.prefix = bytes
        }
    }
}

/// The counting behind ``ConnectionLimiter``: a value, tested on its own.
struct ConnectionCounts: Sendable {
    let maximumPerClient: Int
    private var open: [ClientKey: Int] = [:]

    init(maximumPerClient: Int) {
        self.maximumPerClient = maximumPerClient
    }

    /// Counts a new connection, or returns false when the client has the maximum open.
    mutating func acquire(_ key: ClientKey) -> Bool {
        let current = self.open[key, default: 0]
        guard current < self.maximumPerClient else { return false }
        self.open[key] = current + 1
        return true
    }

    mutating func release(_ key: ClientKey) {
        guard let current = self.open[key] else { return }
        // Forget clients without connections, so the table does not grow with every address seen.
        self.open[key] = current > 1 ? current - 1 : nil
    }

    func count(for key: ClientKey) -> Int {
        self.open[key, default: 0]
    }

    /// Clients with at least one connection.
    var clientCount: Int {
        self.open.count
    }
}
