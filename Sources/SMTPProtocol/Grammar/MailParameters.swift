/// The parameters of `MAIL FROM:` that this module understands, plus the other
/// registered ones it recognises.
///
/// ```
/// C: MAIL FROM:<a@example.com> SIZE=12345 BODY=8BITMIME SMTPUTF8
/// ```
/// - `SIZE=<octets>`: RFC 1870 §6.
/// - `BODY=7BIT` / `BODY=8BITMIME`: RFC 6152 §2.
/// - `SMTPUTF8`: RFC 6531 §3.4.
/// - ``other``: further registered parameters (`AUTH=` RFC 4954 §5, `RET`/`ENVID`
///   RFC 3461, `REQUIRETLS` RFC 8689), left to the server to accept or refuse.
public struct MailParameters: Hashable, Sendable {
    /// The `BODY=` value (RFC 6152 §2).
    public enum Body: Hashable, Sendable {
        case sevenBit
        case eightBitMIME
    }

    public var size: Int?
    public var body: Body?
    public var smtpUTF8: Bool
    public var other: [ESMTPParameter]

    public init(size: Int? = nil, body: Body? = nil, smtpUTF8: Bool = false, other: [ESMTPParameter] = []) {
        self.size = size
        self.body = body
        self.smtpUTF8 = smtpUTF8
        self.other = other
    }

    /// Whether no parameter at all was given.
    public var isEmpty: Bool {
        self.size == nil && self.body == nil && !self.smtpUTF8 && self.other.isEmpty
    }
}
