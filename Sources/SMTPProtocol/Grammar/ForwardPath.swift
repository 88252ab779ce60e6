/// The argument of `RCPT TO:` (RFC 5321 §4.1.1.3).
///
/// ```
/// C: RCPT TO:<bob@example.org>     → mailbox bob@example.org
/// C: RCPT TO:<Postmaster>          → .postmaster (no domain; case-insensitive)
/// C: RCPT TO:<@relay.example:bob@example.org> → bob@example.org, hadSourceRoute == true
/// ```
/// RFC 5321 §4.1.1.3 and appendix C: source routes MUST be accepted syntactically and
/// SHOULD be ignored; ``hadSourceRoute`` lets policy see that one was present.
public struct ForwardPath: Hashable, Sendable {
    /// What the path names.
    public enum Destination: Hashable, Sendable {
        /// `<Postmaster>` without a domain (RFC 5321 §4.1.1.3).
        case postmaster
        case mailbox(Mailbox)
    }

    public var destination: Destination
    /// Whether the client sent a source route (`<@a,@b:user@c>`) that was dropped.
    public var hadSourceRoute: Bool

    public init(_ mailbox: Mailbox, hadSourceRoute: Bool = false) {
        self.destination = .mailbox(mailbox)
        self.hadSourceRoute = hadSourceRoute
    }

    public init(destination: Destination, hadSourceRoute: Bool = false) {
        self.destination = destination
        self.hadSourceRoute = hadSourceRoute
    }

    /// `<Postmaster>` without a domain.
    public static let postmaster = ForwardPath(destination: .postmaster)

    /// The mailbox, or `nil` for the domain-less postmaster.
    public var mailbox: Mailbox? {
        switch self.destination {
        case .postmaster: nil
        case .mailbox(let mailbox): mailbox
        }
    }

    /// Whether this is the domain-less `<Postmaster>`.
    public var isPostmaster: Bool {
        self.destination == .postmaster
    }
}

extension ForwardPath: CustomStringConvertible {
    /// The path in angle brackets as sent on the wire (any source route is not written).
    public var description: String {
        switch self.destination {
        case .postmaster: "<Postmaster>"
        case .mailbox(let mailbox): "<\(mailbox)>"
        }
    }
}
