import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Queue
import RelayCore

/// What every SMTP session of one listener shares: settings, the queue, TLS, users.
struct IngestContext: Sendable {
    var listener: ListenerSettings
    var settings: IngestSettings
    var hostname: String
    var queue: MessageQueue
    var tls: NIOSSLContext?
    var threadPool: NIOThreadPool
    var logger: Logger

    /// Username → crypt(3) hash.
    var users: [String: String] {
        Dictionary(settings.users.map { ($0.username, $0.passwordHash) }, uniquingKeysWith: { first, _ in first })
    }

    /// The egress pool of an account: the user's `pool`, or `relay_pool` without AUTH.
    func pool(for user: String?) -> String {
        guard let user, let settings = settings.users.first(where: { $0.username == user }) else { return settings.relayPool }
        return settings.pool
    }

    func isAllowListed(_ address: SocketAddress?) -> Bool {
        guard let address, let ip = address.ipAddress else { return false }
        return settings.relayNetworks.contains { $0.contains(ip) }
    }
}
