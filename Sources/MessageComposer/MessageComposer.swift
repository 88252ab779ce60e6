/// Turns a `MessageDraft` into RFC 5322 message bytes: CRLF line endings, no line over 998
/// octets (RFC 5322 §2.1.1), header fields folded at 78 where the tokens allow, non-ASCII
/// header text as RFC 2047 encoded words, and a MIME structure (RFC 2045, RFC 2046):
///
///     text only            text/plain
///     html only            text/html
///     text and html        multipart/alternative (text first, RFC 2046 §5.1.4)
///     inline attachments   multipart/related (RFC 2387) around the html and them; without
///                          html they are ordinary parts with `inline` disposition
///     other attachments    multipart/mixed around all of the above
///
/// Work and memory are linear in the draft's size; the caller bounds that size.
public enum MessageComposer {
    public static func compose(_ draft: MessageDraft) throws(CompositionError) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return try compose(draft, using: &generator)
    }

    /// `compose` with the boundaries drawn from `generator` (tests pass a seeded one).
    static func compose(_ draft: MessageDraft, using generator: inout some RandomNumberGenerator) throws(CompositionError) -> [UInt8] {
        let encoder = try TextEncoder(draft.charset)
        var fields: [HeaderField] = []
        try Validation.date(draft.date, field: "date")
        fields.append(HeaderField("Date", unstructured: draft.date))
        fields.append(HeaderField("From", try mailboxList([draft.from], encoder, header: "From", field: "from", indexed: false)))
        if !draft.to.isEmpty { fields.append(HeaderField("To", try mailboxList(draft.to, encoder, header: "To", field: "to"))) }
        if !draft.cc.isEmpty { fields.append(HeaderField("Cc", try mailboxList(draft.cc, encoder, header: "Cc", field: "cc"))) }
        if !draft.replyTo.isEmpty {
            fields.append(HeaderField("Reply-To", try mailboxList(draft.replyTo, encoder, header: "Reply-To", field: "replyTo")))
        }
        fields.append(HeaderField("Subject", try subjectTokens(draft.subject, encoder)))
        try Validation.messageID(draft.messageID, field: "messageID")
        fields.append(HeaderField("Message-ID", ["<\(draft.messageID)>"]))
        for (index, header) in draft.headers.enumerated() {
            fields.append(try customField(header, index: index, encoder))
        }
        fields.append(HeaderField("MIME-Version", ["1.0"]))

        var root = try body(draft, encoder)
        root.fields = fields + root.fields
        var message = try root.serialized(using: &generator)
        if message.count < 2 || message[message.count - 2] != 13 || message[message.count - 1] != 10 { message += [13, 10] }
        return message
    }

    /// The MIME tree of the bodies and attachments (see the type's documentation).
    static func body(_ draft: MessageDraft, _ encoder: TextEncoder) throws(CompositionError) -> MIMEPart {
        let text = try draft.text.map { text throws(CompositionError) in
            try MIMEPart.text(text, subtype: "plain", encoder, field: "text")
        }
        var html = try draft.html.map { html throws(CompositionError) in
            try MIMEPart.text(html, subtype: "html", encoder, field: "html")
        }
        var inline: [MIMEPart] = []
        var attached: [MIMEPart] = []
        for (index, attachment) in draft.attachments.enumerated() {
            let part = try MIMEPart.attachment(attachment, index: index)
            if attachment.contentID != nil && html != nil { inline.append(part) } else { attached.append(part) }
        }
        if let htmlPart = html, !inline.isEmpty {
            html = MIMEPart(fields: [], body: .multipart(subtype: "related", parts: [htmlPart] + inline))
        }
        var root: MIMEPart
        switch (text, html) {
        case (let text?, let html?): root = MIMEPart(fields: [], body: .multipart(subtype: "alternative", parts: [text, html]))
        case (let text?, nil): root = text
        case (nil, let html?): root = html
        case (nil, nil): throw CompositionError(field: "text", message: "a message needs text or html")
        }
        if !attached.isEmpty { root = MIMEPart(fields: [], body: .multipart(subtype: "mixed", parts: [root] + attached)) }
        return root
    }

    /// A mailbox-list or address-list (RFC 5322 §3.4): `phrase <addr-spec>` or a bare
    /// addr-spec, separated by commas.
    static func mailboxList(
        _ mailboxes: [NameAddress], _ encoder: TextEncoder, header: String, field: String, indexed: Bool = true
    ) throws(CompositionError) -> [String] {
        var tokens: [String] = []
        for (index, mailbox) in mailboxes.enumerated() {
            let path = indexed ? "\(field)[\(index)]" : field
            let address = try Validation.addrSpec(mailbox.address, field: "\(path).address")
            if let name = mailbox.name, !name.isEmpty {
                let room = index == 0 ? HeaderText.firstLineRoom(after: header) : HeaderText.encodedWordLength
                tokens += try HeaderText.phrase(name, encoder, field: "\(path).name", firstWordLength: room)
                tokens.append("<\(address)>")
            } else {
                tokens.append(address)
            }
            if index < mailboxes.count - 1 { tokens[tokens.count - 1] += "," }
        }
        return tokens
    }

    /// Plain words when the subject is ASCII without `=?` and without words too long to
    /// fold; encoded words otherwise (RFC 2047 §5(1)).
    static func subjectTokens(_ subject: String, _ encoder: TextEncoder) throws(CompositionError) -> [String] {
        try HeaderText.refuseControls(subject, field: "subject", allowTab: true)
        let plain = HeaderField("Subject", unstructured: subject).tokens
        let room = HeaderText.firstLineRoom(after: "Subject")
        if subject.utf8.allSatisfy({ $0 < 0x80 }) && !subject.contains("=?")
            && plain.allSatisfy({ $0.utf8.count <= HeaderText.encodedWordLength }) && (plain.first?.utf8.count ?? 0) <= room
        {
            return plain
        }
        return try HeaderText.encodedWords(subject, encoder, field: "subject", firstWordLength: room)
    }

    /// A caller's field: an ftext name that is not reserved, a value without CR or LF (which
    /// would inject fields), encoded words when not ASCII.
    static func customField(
        _ header: (name: String, value: String), index: Int, _ encoder: TextEncoder
    ) throws(CompositionError)
        -> HeaderField
    {
        try Validation.customFieldName(header.name, field: "headers[\(index)].name")
        let field = "headers[\(index)].value"
        try HeaderText.refuseControls(header.value, field: field, allowTab: true)
        if header.value.utf8.allSatisfy({ $0 < 0x80 }) && !header.value.contains("=?") {
            let plain = HeaderField(header.name, unstructured: header.value)
            guard plain.tokens.allSatisfy({ $0.utf8.count <= Validation.maximumValueWordLength }) else {
                throw CompositionError(
                    field: field, message: "has a word over \(Validation.maximumValueWordLength) octets, which cannot be folded")
            }
            return plain
        }
        let room = HeaderText.firstLineRoom(after: header.name)
        return HeaderField(header.name, try HeaderText.encodedWords(header.value, encoder, field: field, firstWordLength: room))
    }
}
