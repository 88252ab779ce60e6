import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Queue
import RelayCore
import Unsubscribe

/// What every SMTP session of one listener shares: settings, the queue, TLS, accounts.
struct IngestContext: Sendable {
    var listener: ListenerSettings
    var settings: IngestSettings
    var hostname: String
    var queue: MessageQueue
    var tls: ServerTLS?
    var accounts: AccountDirectory
    var accountStore: AccountStore
    var accountSettings: AccountSettings
    var threadPool: NIOThreadPool
    /// `X-Hikyaku-Unsubscribe: one-click` (``UnsubscribeRequest``); nil when not set up.
    var unsubscribe: UnsubscribeLinks? = nil
    var logger: Logger
    /// This listener's open sessions (graceful shutdown).
    var sessions = SessionRegistry()

    /// The path every message of this listener takes into the queue.
    var intake: MessageIntake {
        MessageIntake(
            queue: queue, accounts: accounts, hostname: hostname, settings: settings, unsubscribe: unsubscribe)
    }

    func isAllowListed(_ address: SocketAddress?) -> Bool {
        guard let address, let ip = address.ipAddress else { return false }
        return settings.relayNetworks.contains { $0.contains(ip) }
    }
}
