import Foundation
import RelayCore
import SMTPProtocol

/// `POST /v1/messages`: a structured message (the relay writes the MIME) or `raw` MIME with
/// an `envelope`. Decoding is strict — an unknown field is a 422 naming it, so a misspelt
/// `reply_too` is not silently dropped — and every field is checked here, before anything
/// is rendered or stored.
struct SendMessageRequest: Decodable, Sendable {
    var from: AddressField?
    var to: [AddressField] = []
    var cc: [AddressField] = []
    var bcc: [AddressField] = []
    var replyTo: [AddressField] = []
    var subject: String?
    var text: String?
    var html: String?
    var headers: [HeaderField] = []
    var attachments: [AttachmentField] = []
    var tags: [String] = []
    var metadata: [String: String] = [:]
    /// `utf-8` (default) or `iso-2022-jp`.
    var charset: String?
    /// A whole RFC 5322 message, sent as is (with `envelope`).
    var raw: String?
    var envelope: EnvelopeField?
    var sandbox: Bool = false
    /// Add `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058 one-click) for the
    /// message's one recipient, before DKIM signing (README "One-click unsubscribe").
    var unsubscribe: Bool = false

    enum CodingKeys: String, CodingKey, CaseIterable {
        case from, to, cc, bcc, replyTo = "reply_to", subject, text, html, headers, attachments, tags, metadata
        case charset, raw, envelope, sandbox, unsubscribe
    }

    init() {}

    init(from decoder: any Decoder) throws {
        try self.init(from: decoder, besides: [])
    }

    /// Decodes the message's fields from an object that may also hold the keys `besides`
    /// (a batch's `personalizations`); any other unknown key is a 422.
    init(from decoder: any Decoder, besides: Set<String>) throws {
        if besides.isEmpty {
            try decoder.rejectUnknownFields(CodingKeys.self)
        } else if let path = try decoder.firstUnknownKey(CodingKeys.self), let name = path.split(separator: ".").last,
            !besides.contains(String(name))
        {
            throw APIError.invalid(path, "unknown field")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        from = try c.decodeIfPresent(AddressField.self, forKey: .from)
        to = try c.decodeAddresses(.to)
        cc = try c.decodeAddresses(.cc)
        bcc = try c.decodeAddresses(.bcc)
        replyTo = try c.decodeAddresses(.replyTo)
        subject = try c.decodeIfPresent(String.self, forKey: .subject)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        html = try c.decodeIfPresent(String.self, forKey: .html)
        if let fields = try c.decodeIfPresent([String: String].self, forKey: .headers) {
            headers = fields.sorted { $0.key < $1.key }.map { HeaderField(name: $0.key, value: $0.value) }
        }
        attachments = try c.decodeIfPresent([AttachmentField].self, forKey: .attachments) ?? []
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
        charset = try c.decodeIfPresent(String.self, forKey: .charset)
        raw = try c.decodeIfPresent(String.self, forKey: .raw)
        envelope = try c.decodeIfPresent(EnvelopeField.self, forKey: .envelope)
        sandbox = try c.decodeIfPresent(Bool.self, forKey: .sandbox) ?? false
        unsubscribe = try c.decodeIfPresent(Bool.self, forKey: .unsubscribe) ?? false
        try checkLabels()
    }

    /// Tags and metadata travel with every event of the message: small, printable, bounded.
    func checkLabels() throws(APIError) {
        guard tags.count <= Self.maxTags else { throw APIError.invalid("tags", "at most \(Self.maxTags) tags") }
        for (index, tag) in tags.enumerated() {
            guard !tag.isEmpty, tag.utf8.count <= Self.maxTagLength,
                !tag.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{7F}" })
            else {
                throw APIError.invalid("tags[\(index)]", "must be 1 to \(Self.maxTagLength) octets without control characters")
            }
        }
        guard metadata.count <= Self.maxMetadata else { throw APIError.invalid("metadata", "at most \(Self.maxMetadata) keys") }
        let size = metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard size <= Self.maxMetadataBytes else {
            throw APIError.invalid("metadata", "\(size) octets of keys and values; at most \(Self.maxMetadataBytes)")
        }
    }

    /// Limits on what one request may carry besides its size.
    static let maxTags = 10
    static let maxTagLength = 64
    static let maxMetadata = 20
    static let maxMetadataBytes = 2048
    static let maxRecipients = 1000
}

/// `"a@example.com"` or `{"email": "a@example.com", "name": "山田太郎"}`.
struct AddressField: Decodable, Sendable {
    var mailbox: Mailbox
    var name: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case email, name }

    init(from decoder: any Decoder) throws {
        let field = AnyCodingKey.path(decoder.codingPath)
        if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
            mailbox = try Self.parse(text, field: field)
            return
        }
        try decoder.rejectUnknownFields(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let email = try c.decodeIfPresent(String.self, forKey: .email) else {
            throw APIError.invalid(field + ".email", "is required")
        }
        mailbox = try Self.parse(email, field: field + ".email")
        name = try c.decodeIfPresent(String.self, forKey: .name)
        if let name, name.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw APIError.invalid(field + ".name", "must not contain line breaks")
        }
        if let name, name.utf8.count > 256 {
            throw APIError.invalid(field + ".name", "is longer than 256 octets")
        }
    }

    /// An address as RFC 5321 §4.1.2 defines a mailbox (what `RCPT TO` would accept).
    static func parse(_ text: String, field: String) throws(APIError) -> Mailbox {
        guard text.utf8.count <= 320, let mailbox = Mailbox(parsing: text), !mailbox.domain.isEmpty else {
            throw APIError.invalid(field, "'\(RemoteText.capped(text, maxBytes: 100))' is not an email address (local@domain)")
        }
        return mailbox
    }
}

struct HeaderField: Sendable {
    var name: String
    var value: String
}

/// `{"filename": "請求書.pdf", "content": "<base64>", "content_type": "application/pdf"}`.
struct AttachmentField: Decodable, Sendable {
    var filename: String
    var content: [UInt8]
    var contentType: String
    var contentID: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case filename, content, contentType = "content_type", contentID = "content_id" }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownFields(CodingKeys.self)
        let field = AnyCodingKey.path(decoder.codingPath)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        filename = try c.decode(String.self, forKey: .filename)
        let encoded = try c.decode(String.self, forKey: .content)
        guard let bytes = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
            throw APIError.invalid(field + ".content", "is not base64")
        }
        content = Array(bytes)
        contentType = try c.decodeIfPresent(String.self, forKey: .contentType) ?? "application/octet-stream"
        contentID = try c.decodeIfPresent(String.self, forKey: .contentID)
        if filename.isEmpty || filename.contains(where: { $0.isNewline || $0 == "/" || $0 == "\\" }) {
            throw APIError.invalid(field + ".filename", "must be a file name without line breaks or slashes")
        }
        let token = contentType.split(separator: "/")
        if token.count != 2 || contentType.contains(where: { $0.isWhitespace || $0 == ";" || $0 == "\"" }) {
            throw APIError.invalid(
                field + ".content_type", "'\(RemoteText.capped(contentType, maxBytes: 80))' is not a media type such as application/pdf")
        }
    }
}

/// The SMTP envelope of a `raw` message.
struct EnvelopeField: Decodable, Sendable {
    var from: ReversePath
    var to: [Mailbox]

    enum CodingKeys: String, CodingKey, CaseIterable { case from, to }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownFields(CodingKeys.self)
        let field = AnyCodingKey.path(decoder.codingPath)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let sender = try c.decode(String.self, forKey: .from)
        from = sender.isEmpty ? .null : .mailbox(try AddressField.parse(sender, field: field + ".from"))
        let recipients = try c.decode([String].self, forKey: .to)
        to = try recipients.enumerated().map { index, text throws(APIError) in
            try AddressField.parse(text, field: field + ".to[\(index)]")
        }
    }
}

extension KeyedDecodingContainer where Key == SendMessageRequest.CodingKeys {
    /// One address or a list of them.
    func decodeAddresses(_ key: Key) throws -> [AddressField] {
        guard contains(key), try !decodeNil(forKey: key) else { return [] }
        if (try? nestedUnkeyedContainer(forKey: key)) != nil { return try decode([AddressField].self, forKey: key) }
        return [try decode(AddressField.self, forKey: key)]
    }
}

extension Decoder {
    /// A 422 naming the first field this object does not define.
    func rejectUnknownFields<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        if let path = try firstUnknownKey(keys) {
            let known = Keys.allCases.map(\.stringValue).sorted().joined(separator: ", ")
            throw APIError.invalid(path, "unknown field (known here: \(known))")
        }
    }
}
