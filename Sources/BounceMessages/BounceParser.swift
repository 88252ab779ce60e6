/// Reads an inbound message sent to the bounce listener: a delivery status notification
/// (RFC 3464, or an older plain-text format), a feedback report (RFC 5965), or an
/// automatic reply (RFC 3834).
///
/// The input is hostile: only the first `maxBytes` are read, the MIME tree is bounded
/// (`MIMEEntity.Limits`), and every scanner is linear; nothing in it can make the parser
/// fail — what it cannot read is `.unrecognized`.
public enum BounceParser {
    /// The most octets of a message read (reports put what matters first).
    public static let maxBytes = 1 << 20

    public static func parse(_ bytes: [UInt8]) -> InboundReport {
        let message = MIMEEntity(parsing: bytes.prefix(maxBytes))
        let entities = message.all
        let original = originalIdentifiers(message, entities)

        // RFC 5965: a feedback report (also Yahoo CFL and Microsoft JMRP, which are ARF).
        if let report = entities.first(where: { $0.contentType == "message/feedback-report" }) {
            var complaint = ReportFields.feedback(report.text)
            complaint.originalMessageID = original.messageID
            complaint.originalQueueID = original.queueID
            if complaint.originalRecipient == nil {
                // Microsoft's JMRP keeps the recipient, when at all, in this field.
                let field = enclosedHeader(entities)?.value("x-hmxmroriginalrecipient").flatMap(TextScan.fieldAddress)
                complaint.originalRecipient = field.flatMap { ReportFields.isRedacted($0) ? nil : $0 }
            }
            return .complaint(complaint)
        }

        let sender = addresses(message.header, ["from", "sender", "return-path"])
        let bounceSignal = sender.contains(where: PlainTextBounce.isDaemon) || hasBounceSubject(message.header)
        let plain = PlainTextBounce(
            excluded: Set(sender + addresses(message.header, ["to", "cc", "reply-to"])), bounceSignal: bounceSignal)
        let text = humanText(message)

        // RFC 3464: the delivery-status part names each recipient.
        if let status = entities.first(where: {
            $0.contentType == "message/delivery-status" || $0.contentType == "message/global-delivery-status"
        }) {
            var (recipients, named) = ReportFields.deliveryStatus(status.text)
            if named == 0 {
                // Reports without recipient fields (Netscape's, some gateways'): read the text.
                let fromText = plain.recipients(in: text)
                if !fromText.isEmpty {
                    let template = recipients.first
                    recipients = fromText.map { found in
                        var recipient = found
                        if let template {
                            recipient.status = template.status ?? found.status
                            recipient.diagnostic = template.diagnostic ?? found.diagnostic
                            recipient.action = template.action
                            recipient.remoteMTA = template.remoteMTA
                        }
                        recipient.format = "rfc3464-text"
                        return recipient
                    }
                }
            }
            return .deliveryStatus(stamped(recipients, original))
        }

        // RFC 8098: a disposition notification that reports a deletion or failure.
        if let mdn = entities.first(where: { $0.contentType == "message/disposition-notification" }),
            var recipient = ReportFields.failedDisposition(mdn.text)
        {
            if let explained = plain.recipients(in: text).first(where: { $0.recipient == recipient.recipient }) {
                recipient.diagnostic = recipient.diagnostic ?? explained.diagnostic
            }
            return .deliveryStatus(stamped([recipient], original))
        }

        // Exim names the failed recipients in a header field as well as in its text.
        let eximFailed = message.header.values("x-failed-recipients").flatMap { TextScan.addresses(in: Substring($0)) }.map(\.address)
        if !eximFailed.isEmpty {
            let described = plain.recipients(in: text)
            let recipients = unique(eximFailed).prefix(ReportFields.maxRecipients).map { address in
                var recipient =
                    described.first { TextScan.lowercasedASCII($0.recipient ?? "") == TextScan.lowercasedASCII(address) }
                    ?? FailedRecipient(recipient: address)
                recipient.recipient = address
                recipient.format = "exim"
                return recipient
            }
            return .deliveryStatus(stamped(Array(recipients), original))
        }

        // RFC 3834 §5: an automatic reply says so (a bounce from a mailer daemon may too:
        // Exim marks its bounces auto-replied).
        let autoReply = isMarkedAutoReply(message.header)
        if autoReply && !sender.contains(where: PlainTextBounce.isDaemon) { return .autoReply }

        let (found, sawIntro) = plain.recipientsAndIntro(in: text)
        if !found.isEmpty { return .deliveryStatus(stamped(found, original)) }
        if autoReply || hasAutoReplySubject(message.header) { return .autoReply }
        // A bounce that names no recipient we can read (a bare local part, or none at all):
        // still a bounce, which a VERP return path attributes by itself.
        if bounceSignal && (sawIntro || sender.contains(where: PlainTextBounce.isDaemon)) || sawIntro && hasBounceSubject(message.header) {
            return .deliveryStatus([])
        }
        return .unrecognized
    }

    private static func stamped(_ recipients: [FailedRecipient], _ original: OriginalIdentifiers) -> [FailedRecipient] {
        recipients.map {
            var recipient = $0
            recipient.originalMessageID = original.messageID
            recipient.originalQueueID = original.queueID
            return recipient
        }
    }

    private static func unique(_ addresses: [String]) -> [String] {
        var seen: Set<String> = []
        return addresses.filter { seen.insert(TextScan.lowercasedASCII($0)).inserted }
    }

    /// The enclosed original's header: a `message/rfc822` part's, or `text/rfc822-headers`.
    private static func enclosedHeader(_ entities: [MIMEEntity]) -> MIMEHeader? {
        for entity in entities.dropFirst() {
            switch entity.contentType {
            case "message/rfc822", "message/global":
                if let inner = entity.parts.first { return inner.header }
            case "text/rfc822-headers", "message/rfc822-headers", "message/global-headers":
                return MIMEHeader(parsing: MIMEEntity.split(entity.body[...]).0)
            default:
                continue
            }
        }
        return nil
    }

    private static func originalIdentifiers(_ message: MIMEEntity, _ entities: [MIMEEntity]) -> OriginalIdentifiers {
        var identifiers = OriginalIdentifiers()
        if let header = enclosedHeader(entities) { identifiers = OriginalIdentifiers(header: header) }
        if identifiers.messageID == nil || identifiers.queueID == nil {
            // A plain-text bounce quotes the original headers in its body.
            var quoted = ""
            for entity in entities where entity.parts.isEmpty && entity.isText && quoted.utf8.count < 512 * 1024 {
                quoted += entity.text + "\n"
            }
            identifiers.fill(from: OriginalIdentifiers(quotedIn: quoted))
        }
        return identifiers
    }

    /// The text a person would read first: the text leaves outside any enclosed message
    /// (HTML reduced to text), in order.
    private static func humanText(_ message: MIMEEntity) -> String {
        var pieces: [String] = []
        var budget = 512 * 1024
        func walk(_ entity: MIMEEntity) {
            guard budget > 0 else { return }
            if entity.contentType.hasPrefix("multipart/") && !entity.parts.isEmpty {
                entity.parts.forEach(walk)
                return
            }
            guard entity.parts.isEmpty, entity.contentType == "text/plain" || entity.contentType == "text/html" else { return }
            let text = entity.contentType == "text/html" ? TextScan.htmlToText(entity.text) : entity.text
            budget -= text.utf8.count
            pieces.append(text)
        }
        walk(message)
        return pieces.joined(separator: "\n")
    }

    private static func addresses(_ header: MIMEHeader, _ names: [String]) -> [String] {
        names.flatMap { header.values($0) }.flatMap { TextScan.addresses(in: Substring($0)) }.map { TextScan.lowercasedASCII($0.address) }
    }

    private static func hasBounceSubject(_ header: MIMEHeader) -> Bool {
        let subject = TextScan.lowercasedASCII(TransferEncoding.decodeEncodedWords(header.value("subject") ?? ""))
        return [
            "undeliver", "returned mail", "delivery status", "delivery fail", "failure notice", "mail delivery", "non-delivery",
            "nondeliverable", "not delivered", "could not be delivered", "delivery notification", "bounce", "rejected",
            "mail system error", "delivery problem", "unable to deliver", "delivery report", "user unknown", "mail error",
            "failed mail", "delivery warning", "not yet been delivered", "automatically rejected", "warning: message",
        ].contains { subject.has($0) }
    }

    /// RFC 3834 §5.1 `Auto-Submitted: auto-replied`, and the fields older responders set.
    private static func isMarkedAutoReply(_ header: MIMEHeader) -> Bool {
        let submitted = TextScan.lowercasedASCII(header.value("auto-submitted") ?? "")
        if submitted.hasPrefix("auto-replied") { return true }
        if header.value("x-autoreply") != nil || header.value("x-autorespond") != nil { return true }
        let precedence = TextScan.lowercasedASCII(header.value("precedence") ?? header.value("x-precedence") ?? "")
        return precedence.trimmed == "auto_reply"
    }

    private static func hasAutoReplySubject(_ header: MIMEHeader) -> Bool {
        let subject = TransferEncoding.decodeEncodedWords(header.value("subject") ?? "")
        let lower = TextScan.lowercasedASCII(subject)
        let phrases = [
            "out of office", "out of the office", "automatic reply", "auto reply", "auto-reply", "autoreply", "auto response",
            "auto-response", "autoresponse", "vacation", "away from my", "abwesenheit", "réponse automatique", "respuesta automática",
            "risposta automatica", "automatisch antwoord", "自動返信", "自動応答", "不在",
        ]
        return lower.hasPrefix("auto:") || phrases.contains { lower.has($0) }
    }
}
