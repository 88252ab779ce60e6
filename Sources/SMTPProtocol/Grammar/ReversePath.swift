/// The argument of `MAIL FROM:` (RFC 5321 §4.1.1.2, §4.1.2).
///
/// ```
/// C: MAIL FROM:<>                 → .null (bounces, RFC 5321 §4.5.5)
/// C: MAIL FROM:<alice@example.com> → .mailbox(alice@example.com)
/// ```
/// A source route (`<@a,@b:user@c>`) is accepted and dropped (RFC 5321 §4.1.1.2, appendix C).
public enum ReversePath: Hashable, Sendable {
    /// The null reverse-path `<>`.
    case null
    case mailbox(Mailbox)

    /// The mailbox, or `nil` for the null path.
    public var mailbox: Mailbox? {
        switch self {
        case .null: nil
        case .mailbox(let mailbox): mailbox
        }
    }
}

extension ReversePath: CustomStringConvertible {
    /// The path in angle brackets, as sent on the wire: `<>` or `<local@domain>`.
    public var description: String {
        switch self {
        case .null: "<>"
        case .mailbox(let mailbox): "<\(mailbox)>"
        }
    }
}
