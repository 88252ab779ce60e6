import NIOCore
import SMTPProtocol
import Unsubscribe

/// What a submitted message's `X-Hikyaku-Unsubscribe: one-click` field becomes: the
/// `List-Unsubscribe` and `List-Unsubscribe-Post` fields of its recipient (RFC 2369,
/// RFC 8058), written in its place before DKIM signs the header — or why not, refused at
/// the dot with `550 5.6.0`. The HTTP API's `"unsubscribe": true` adds the same field.
///
/// The link names one recipient, and a message's content is the same for all of its
/// recipients, so only a message with exactly one recipient can carry it:
///
/// ```
/// C: MAIL FROM:<news@acme.example>
/// C: RCPT TO:<taro@example.jp>
/// C: RCPT TO:<hanako@example.jp>
/// C: DATA … X-Hikyaku-Unsubscribe: one-click … .
/// S: 550 5.6.0 X-Hikyaku-Unsubscribe needs a message with exactly one recipient …
/// ```
enum UnsubscribeRequest: Sendable {
    /// The fields for this token (the account and the only recipient) can be made.
    case available(ListUnsubscribe, UnsubscribeToken)
    /// They cannot: why, for the refusal.
    case unavailable(String)

    enum Outcome {
        case fields(String)
        case refused(SMTPReply)
    }

    /// The only value the field takes.
    static let oneClick = "one-click"

    func fields(value: String, header: ByteBufferView.SubSequence) -> Outcome {
        guard value.lowercased() == Self.oneClick else {
            return .refused(SMTPReply(550, "5.6.0", "X-Hikyaku-Unsubscribe: the only value is one-click"))
        }
        if MessageAssembler.headerValue(named: "list-unsubscribe", in: header) != nil {
            return .refused(
                SMTPReply(550, "5.6.0", "The message has both List-Unsubscribe and X-Hikyaku-Unsubscribe; remove one of them"))
        }
        switch self {
        case .available(let list, let token):
            guard let text = list.fieldText(for: token) else { return .refused(SMTPReply(550, "5.6.0", Self.notConfigured)) }
            return .fields(text)
        case .unavailable(let why):
            return .refused(SMTPReply(550, "5.6.0", why))
        }
    }

    static let notConfigured =
        "X-Hikyaku-Unsubscribe: one-click unsubscribe is not set up on this relay (campaigns.unsubscribe_base_url and secrets.key_file)"
    static let severalRecipients =
        "X-Hikyaku-Unsubscribe needs a message with exactly one recipient (the link is the recipient's); send one message per recipient"
    static let noAccount = "X-Hikyaku-Unsubscribe needs an authenticated account (the unsubscribe is from the account's mail)"
}
