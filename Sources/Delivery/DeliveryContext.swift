import BounceClassification
import DNSResolver
import Logging
import NIOCore
import NIOSSL
import OutboundTLS
import Queue
import RelayCore
import Secrets

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
    var tls: OutboundTLSContexts
    /// MTA-STS policies (nil when `delivery.mta_sts.enabled` is false).
    var mtaSTS: MTASTSPolicyStore?
    /// TLSA lookups for DANE (nil unless `delivery.dane.enabled`).
    var dane: DNSResolver?
    /// The key file VERP tokens are signed with (nil: no `secrets.key_file` on this worker).
    var returnPaths: KeyringFile?
    var logger: Logger
    /// Classifies failure replies (`bounces.rules_file`, or the shipped rules).
    var bounceClassifier = BounceClassifier(rules: .shipped)
    /// Writes the DSNs of `send_dsns` accounts (nil: none are written, e.g. in tests).
    var senderNotifier: SenderNotifier? = nil
    /// Suppresses the addresses of hard `invalid_recipient` bounces (nil: none, e.g. in tests).
    var bounceSuppressor: BounceSuppressor? = nil
    /// The adaptive-backoff rules, which tell a throttling reply from a greylisting one.
    var backoff: BackoffRules? = nil
}
