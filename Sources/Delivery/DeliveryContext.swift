import DNSResolver
import Logging
import NIOCore
import NIOSSL
import Queue
import RelayCore

/// What every delivery task of a worker process shares.
struct DeliveryContext: Sendable {
    var settings: DeliverySettings
    var heloName: String
    var node: String
    var group: EventLoopGroup
    var queue: MessageQueue
    var router: DestinationRouter
    /// `ingest.max_received_headers`: a queued message with more is bounced as a loop.
    var maxReceivedHeaders: Int
    var clientTLS: NIOSSLContext?
    var logger: Logger
}
