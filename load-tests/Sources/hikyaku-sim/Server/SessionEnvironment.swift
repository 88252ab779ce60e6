import Logging
import NIOSSL

/// What every session on one site address shares.
struct SessionEnvironment: Sendable {
    let site: SimulatedSite
    /// The site address the sessions arrive on (`mx` in records).
    let serverIP: String
    let recorder: Recorder?
    /// For STARTTLS, when the site offers it.
    let tls: NIOSSLContext?
    let queueIDs: QueueIDGenerator
    let logger: Logger
}
