import Ingest
import Logging
import MessageComposer
import NIOCore
import Queue
import RelayCore
import SMTPProtocol

/// One message from the API into the queue, through the same ``MessageIntake`` as SMTP:
/// the sender policy `MAIL FROM` would apply, the relay's `Received:`, the header checks,
/// DKIM and the durable enqueue (with `WAIT` for replicas) — answered only once stored.
struct APISubmission: Sendable {
    let intake: MessageIntake
    let hostname: String

    /// What a `202` reports of one message.
    struct Accepted: Sendable, Encodable {
        var id: String
        var messageID: String
        var recipients: [RecipientStatus]

        enum CodingKeys: String, CodingKey { case id, messageID = "message_id", recipients }
    }

    /// `queued` (or `sandbox`), or `suppressed` with the list entry's `reason`: a recipient
    /// on the account's or the global suppression list is dropped by the enqueue.
    struct RecipientStatus: Sendable, Encodable {
        var email: String
        var status: String
        var reason: String?
    }

    /// Where the request came from, for `Received:` and the logs.
    struct Origin: Sendable {
        var caller: APICaller
        var clientIP: String?
        /// `HTTPS` or `HTTP` (RFC 3848's `with`, as the `Received:` field says).
        var protocolName: String
        var logger: Logger
    }

    func submit(_ request: SendMessageRequest, from origin: Origin) async throws(APIError) -> Accepted {
        let account = origin.caller.account
        var envelope = try Self.envelope(of: request)
        if !request.tags.isEmpty || !request.metadata.isEmpty {
            envelope.labels = MessageLabels(tags: request.tags, metadata: request.metadata)
        }
        let policy = AccountDirectory.policy(for: account)
        if let refusal = policy.refusal {
            throw APIError(.tooManyRequests, "account_paused", refusal.text, retryAfter: 3600)
        }
        if let sender = envelope.sender.mailbox, !policy.allows(domain: sender.domain) {
            throw APIError.forbidden("'\(sender.domain)' is not a sending domain of account \(account.name)")
        }
        if let limit = policy.maxRecipients, envelope.recipients.count > limit {
            throw APIError.invalid(
                "to", "\(envelope.recipients.count) recipients; account \(account.name) may send to \(limit) per message")
        }
        var submitter = MessageIntake.Submitter(
            listener: MessageIntake.apiListener, clientIP: origin.clientIP, authUser: "api-key:\(origin.caller.keyID)", account: account,
            logger: origin.logger)
        submitter.logger[metadataKey: "api_key"] = "\(origin.caller.keyID)"
        var message = intake.startMessage(
            from: submitter,
            trace: .init(
                heloName: "api", protocolName: origin.protocolName,
                onlyRecipient: envelope.recipients.count == 1 ? envelope.recipients[0].description : nil))
        let messageID = "\(message.queueID.rawValue)@\(hostname)"
        var content: [UInt8] = []
        if request.unsubscribe {
            // The intake writes the recipient's List-Unsubscribe fields in its place (as for SMTP).
            content = Array("X-Hikyaku-Unsubscribe: one-click\r\n".utf8)
        }
        if let raw = request.raw {
            content += Self.withCRLF(raw)
        } else {
            content += try Self.compose(request, messageID: messageID)
        }
        if content.count > intake.maxMessageSize {
            throw APIError(
                .contentTooLarge, "too_large", "the message is \(content.count) octets; ingest.max_message_size is \(intake.maxMessageSize)"
            )
        }
        if let limit = policy.maxMessageSize, content.count > limit {
            throw APIError(
                .contentTooLarge, "too_large", "the message is \(content.count) octets; account \(account.name) may send \(limit)")
        }
        message.append(ByteBuffer(bytes: content))
        message.finish()
        if let refused = intake.check(message, from: submitter) { throw Self.error(for: refused) }
        let result = await intake.enqueue(message, envelope: envelope, from: submitter, streamed: false, sandbox: request.sandbox)
        switch result.outcome {
        case .queued, .sandboxed:
            let status = result.outcome == .sandboxed ? "sandbox" : "queued"
            let suppressed = Dictionary(result.suppressed.map { ($0.address, $0.reason) }, uniquingKeysWith: { first, _ in first })
            return Accepted(
                id: result.queueID.rawValue, messageID: message.messageID ?? "<\(messageID)>",
                recipients: envelope.recipients.map { recipient in
                    let email = recipient.description
                    if let reason = suppressed[email] { return RecipientStatus(email: email, status: "suppressed", reason: reason) }
                    return RecipientStatus(email: email, status: status)
                })
        case .refused:
            throw Self.error(for: result)
        }
    }

    /// The SMTP envelope: `raw` brings its own; a structured message goes from `from` to
    /// every `to`, `cc` and `bcc` (each once).
    static func envelope(of request: SendMessageRequest) throws(APIError) -> MessageIntake.Envelope {
        let envelope = try plainEnvelope(of: request)
        if request.unsubscribe, envelope.recipients.count != 1 {
            throw APIError.invalid(
                "unsubscribe",
                "needs exactly one recipient (the link is the recipient's); send one message per recipient, or use the batch API")
        }
        return envelope
    }

    private static func plainEnvelope(of request: SendMessageRequest) throws(APIError) -> MessageIntake.Envelope {
        if request.raw != nil {
            guard let envelope = request.envelope else { throw APIError.invalid("envelope", "is required with raw") }
            for field in ["from", "to", "subject", "text", "html"] where request.has(field) {
                throw APIError.invalid(field, "cannot be combined with raw (put it in the raw message)")
            }
            guard !envelope.to.isEmpty else { throw APIError.invalid("envelope.to", "needs at least one recipient") }
            return .init(sender: envelope.from, recipients: unique(envelope.to))
        }
        if request.envelope != nil { throw APIError.invalid("envelope", "is only for raw messages") }
        guard let from = request.from else { throw APIError.invalid("from", "is required") }
        let recipients = unique((request.to + request.cc + request.bcc).map(\.mailbox))
        guard !recipients.isEmpty else { throw APIError.invalid("to", "needs at least one recipient (to, cc or bcc)") }
        guard recipients.count <= SendMessageRequest.maxRecipients else {
            throw APIError.invalid("to", "\(recipients.count) recipients; at most \(SendMessageRequest.maxRecipients) per message")
        }
        return .init(sender: .mailbox(from.mailbox), recipients: recipients)
    }

    static func unique(_ mailboxes: [Mailbox]) -> [Mailbox] {
        var seen = Set<String>()
        return mailboxes.filter { seen.insert($0.localPart + "@" + $0.normalizedDomain).inserted }
    }

    /// The message as the relay writes it (``MessageComposer``).
    static func compose(_ request: SendMessageRequest, messageID: String) throws(APIError) -> [UInt8] {
        guard let from = request.from else { throw APIError.invalid("from", "is required") }
        guard request.text != nil || request.html != nil else { throw APIError.invalid("text", "text or html is required") }
        let charset: BodyCharset
        switch request.charset?.lowercased() {
        case nil, "utf-8", "utf8": charset = .utf8
        case "iso-2022-jp": charset = .iso2022jp
        case let other?: throw APIError.invalid("charset", "'\(RemoteText.capped(other, maxBytes: 40))' is not utf-8 or iso-2022-jp")
        }
        let draft = MessageDraft(
            from: from.nameAddress, to: request.to.map(\.nameAddress), cc: request.cc.map(\.nameAddress),
            replyTo: request.replyTo.map(\.nameAddress), subject: request.subject ?? "", text: request.text, html: request.html,
            headers: request.headers.map { (name: $0.name, value: $0.value) },
            attachments: request.attachments.map {
                Attachment(filename: $0.filename, contentType: $0.contentType, content: $0.content, contentID: $0.contentID)
            },
            charset: charset, messageID: messageID,
            date: WallClock.rfc5322Date(milliseconds: WallClock.nowMilliseconds()))
        do {
            return try MessageComposer.compose(draft)
        } catch {
            throw APIError.invalid(error.field, error.message)
        }
    }

    /// Bare LF (and CR) line ends as CRLF (RFC 5322 §2.3), as the queue stores messages.
    static func withCRLF(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + text.utf8.count / 40)
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == 0x0A, previous != 0x0D { out.append(0x0D) }
            if previous == 0x0D, byte != 0x0A { out.append(0x0A) }
            out.append(byte)
            previous = byte
        }
        if previous == 0x0D { out.append(0x0A) }
        return out
    }

    /// An intake refusal in HTTP terms: its status, a code, and the SMTP reply's text.
    static func error(for result: IntakeResult) -> APIError {
        let code: String
        switch result.outcome {
        case .refused(.quota): code = "quota_exceeded"
        case .refused(.fromDomain): code = "sender_not_allowed"
        case .refused(.mailLoop): code = "mail_loop"
        case .refused(.unsignable): code = "unsignable"
        case .refused(.suppressed): code = "suppressed"
        case .refused(.queueUnavailable): code = "unavailable"
        case .refused(let reason): code = reason.rawValue
        case .queued, .sandboxed: code = "accepted"
        }
        let retry = result.retryAfterSeconds ?? (result.httpStatus == 503 ? 5 : nil)
        return APIError(.init(code: result.httpStatus), code, result.reply.text, retryAfter: retry)
    }
}

extension AddressField {
    var nameAddress: NameAddress { NameAddress(name: name, address: mailbox.description) }
}

extension SendMessageRequest {
    /// Whether a structured field was given (for the `raw` checks).
    func has(_ field: String) -> Bool {
        switch field {
        case "from": from != nil
        case "to": !to.isEmpty || !cc.isEmpty || !bcc.isEmpty
        case "subject": subject != nil
        case "text": text != nil
        case "html": html != nil
        default: false
        }
    }
}
