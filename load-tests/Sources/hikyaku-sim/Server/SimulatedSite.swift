import NIOCore
import SMTPProtocol
import Synchronization

/// One site at run time, shared by every connection to its addresses on every event loop:
/// its ``SitePolicy`` and counters behind locks (held for microseconds), and the settings
/// its sessions start from.
final class SimulatedSite: Sendable {
    let definition: SiteDefinition
    /// The name in the greeting and EHLO reply: the first MX host.
    let hostname: String
    let serverConfiguration: SMTPServerConfiguration
    private let policy: Mutex<SitePolicy>
    private let counters = Mutex(SiteCounters())

    var name: String { self.definition.name }
    var behaviours: SiteBehaviours { self.definition.behaviours }

    init(definition: SiteDefinition, tlsAvailable: Bool) {
        self.definition = definition
        self.hostname = definition.mxHosts[0]
        self.serverConfiguration = SMTPServerConfiguration(
            hostname: self.hostname,
            maxMessageSize: SimDefaults.maxMessageSize,
            startTLSAvailable: definition.behaviours.startTLS && tlsAvailable,
            clientIsAllowListed: true)
        self.policy = Mutex(SitePolicy(behaviours: definition.behaviours))
    }

    /// See ``SitePolicy/decide(recipient:sender:client:transactionCounted:now:)``.
    func decide(recipient: String, sender: String, client: String, transactionCounted: Bool, now: NIODeadline = .now()) -> RecipientDecision
    {
        self.policy.withLock {
            $0.decide(recipient: recipient, sender: sender, client: client, transactionCounted: transactionCounted, now: now)
        }
    }

    func countAccepted(recipients: Int) {
        self.counters.withLock {
            $0.acceptedMessages += 1
            $0.acceptedRecipients += recipients
        }
    }

    func countRefused(_ reason: RefusalReason, recipients: Int = 1) {
        self.counters.withLock { $0.refused[reason, default: 0] += recipients }
    }

    /// The counters now.
    var snapshot: SiteCounters {
        self.counters.withLock { $0 }
    }
}
