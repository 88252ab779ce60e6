/// A mailbox: an optional display name and an addr-spec (RFC 5322 §3.4).
///
/// The address is `local@domain`. The local part may be UTF-8 (RFC 6532 §3.2); a local part
/// that is not a dot-atom (`taro..yamada`, old Japanese mobile addresses) is written as a
/// quoted-string, which names the same mailbox.
public struct NameAddress: Sendable, Hashable {
    public var name: String?
    public var address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }
}

/// A file carried in the message, base64-encoded (RFC 2045 §6.8).
///
/// With a `contentID` the part is inline (`Content-Disposition: inline`, RFC 2183) and the
/// HTML refers to it as `cid:<contentID>` (RFC 2392); it then sits in a multipart/related
/// beside the HTML (RFC 2387).
public struct Attachment: Sendable, Hashable {
    public var filename: String
    /// `type/subtype` (RFC 2045 §5.1) without parameters.
    public var contentType: String
    public var content: [UInt8]
    /// Without the angle brackets.
    public var contentID: String?

    public init(filename: String, contentType: String, content: [UInt8], contentID: String? = nil) {
        self.filename = filename
        self.contentType = contentType
        self.content = content
        self.contentID = contentID
    }
}

/// The charset of the text parts and of the encoded words in headers.
public enum BodyCharset: Sendable, Hashable {
    /// UTF-8; text parts 7bit when plain short-lined ASCII, base64 otherwise.
    case utf8
    /// ISO-2022-JP (RFC 1468), still expected by some Japanese mobile and business mail:
    /// converted with iconv, text parts 7bit, encoded words `=?ISO-2022-JP?B?…?=`.
    case iso2022jp
}

/// A message to compose: what the HTTP send API accepts.
///
/// Bcc recipients are envelope-only and have no place here (RFC 5322 §3.6.3 allows dropping
/// the field, and a relay must never disclose them).
public struct MessageDraft: Sendable {
    public var from: NameAddress
    public var to: [NameAddress]
    public var cc: [NameAddress]
    public var replyTo: [NameAddress]
    public var subject: String
    /// At least one of `text` and `html` is required.
    public var text: String?
    public var html: String?
    /// Extra header fields, in order; the structural ones are refused (see `MessageComposer`).
    public var headers: [(name: String, value: String)]
    public var attachments: [Attachment]
    public var charset: BodyCharset
    /// `id-left@id-right`, without the angle brackets (RFC 5322 §3.6.4).
    public var messageID: String
    /// An RFC 5322 §3.3 date-time, e.g. `Sun, 06 Dec 2026 20:06:13 +0000`.
    public var date: String

    public init(
        from: NameAddress, to: [NameAddress] = [], cc: [NameAddress] = [], replyTo: [NameAddress] = [], subject: String,
        text: String? = nil, html: String? = nil, headers: [(name: String, value: String)] = [], attachments: [Attachment] = [],
        charset: BodyCharset = .utf8, messageID: String, date: String
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.headers = headers
        self.attachments = attachments
        self.charset = charset
        self.messageID = messageID
        self.date = date
    }
}

/// Why a draft cannot be composed: the offending field as the API client named it
/// (`subject`, `to[0].address`, `headers[2].name`, `attachments[1].filename`) and a reason.
public struct CompositionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
