import SMTPProtocol

// Tests write envelope addresses as literals (`"a@example.com"`, `""` for `<>`). A literal
// that is not a valid mailbox is a mistake in the test, so it stops the test at once.
// Production code never builds addresses from literals: it keeps what the parser gave.

extension Mailbox: ExpressibleByStringInterpolation, ExpressibleByUnicodeScalarLiteral,
    ExpressibleByExtendedGraphemeClusterLiteral
{
    public init(stringLiteral text: String) {
        guard let mailbox = Mailbox(parsing: text) else { preconditionFailure("not a mailbox: \(text)") }
        self = mailbox
    }
}

extension ReversePath: ExpressibleByStringLiteral, ExpressibleByUnicodeScalarLiteral,
    ExpressibleByExtendedGraphemeClusterLiteral
{
    /// `""` is the null reverse-path `<>`.
    public init(stringLiteral text: String) {
        self = text.isEmpty ? .null : .mailbox(Mailbox(stringLiteral: text))
    }
}
