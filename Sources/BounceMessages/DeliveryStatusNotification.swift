import RelayCore

/// A delivery status notification to a message's sender (RFC 3464): a
/// `multipart/report; report-type=delivery-status` (RFC 6522) with a part for people, the
/// `message/delivery-status` fields, and the original header section as
/// `text/rfc822-headers`. Send it with the null reverse path `MAIL FROM:<>` (RFC 5321
/// §4.5.5), so it can never bounce back.
///
///     From: Mail Delivery System <MAILER-DAEMON@relay.example>
///     To: <app@acme.example>
///     Subject: Undelivered Mail Returned to Sender
///     Auto-Submitted: auto-replied
///     Content-Type: multipart/report; report-type=delivery-status; boundary="…"
///
///     Reporting-MTA: dns; relay.example
///     X-Hikyaku-Queue-ID: 01JDQ3T6Z8F0M4X2KP
///     Arrival-Date: Sun, 29 Nov 2026 01:02:03 +0000
///
///     Final-Recipient: rfc822; nobody@example.net
///     Action: failed
///     Status: 5.1.1
///     Remote-MTA: dns; mx.example.net
///     Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: user unknown
///     Last-Attempt-Date: Sun, 29 Nov 2026 01:02:05 +0000
public struct DeliveryStatusNotification: Sendable {
    public struct Recipient: Sendable {
        public enum Action: String, Sendable { case failed, delayed }
        public var address: String
        public var action: Action
        /// Enhanced status code (RFC 3463), e.g. `5.1.1`.
        public var status: String
        /// The remote server's full reply, e.g. `550 5.1.1 <x@y>: user unknown`; nil when
        /// the relay gave up without one (expiry, DNS failure).
        public var diagnostic: String?
        public var remoteMTA: String?
        /// Milliseconds since 1970.
        public var lastAttempt: Int64?

        public init(
            address: String, action: Action, status: String, diagnostic: String? = nil, remoteMTA: String? = nil, lastAttempt: Int64? = nil
        ) {
            self.address = address
            self.action = action
            self.status = status
            self.diagnostic = diagnostic
            self.remoteMTA = remoteMTA
            self.lastAttempt = lastAttempt
        }
    }

    /// The relay's host name (`Reporting-MTA`, the `From:` domain, the `Message-ID` right side).
    public var reportingMTA: String
    /// The original envelope sender, to whom the report goes.
    public var originalSender: String
    public var recipients: [Recipient]
    /// The original message's header section (up to its empty line; more is cut off).
    public var originalHeader: [UInt8]
    /// When the relay accepted the original (ms since 1970).
    public var arrivalDate: Int64
    public var queueID: QueueID?
    /// When the report is written (ms since 1970).
    public var date: Int64

    /// At most this much of the original header is enclosed.
    public static let maxOriginalHeaderBytes = 64 * 1024

    public init(
        reportingMTA: String, originalSender: String, recipients: [Recipient], originalHeader: [UInt8], arrivalDate: Int64,
        queueID: QueueID? = nil, date: Int64 = WallClock.nowMilliseconds()
    ) {
        self.reportingMTA = reportingMTA
        self.originalSender = originalSender
        self.recipients = recipients
        self.originalHeader = originalHeader
        self.arrivalDate = arrivalDate
        self.queueID = queueID
        self.date = date
    }

    /// The whole message, CRLF line ends, ready for `DATA`.
    public func render(messageIDLocalPart: String? = nil) -> [UInt8] {
        let host = Self.clean(reportingMTA, limit: 255)
        let header = enclosedHeader()
        var boundary = "=_hikyaku-dsn-\(queueID?.rawValue ?? String(date))"
        while Self.contains(header, Array(("--" + boundary).utf8)) { boundary += "_" }
        let failed = recipients.contains { $0.action == .failed }
        let localPart = messageIDLocalPart ?? "dsn.\(queueID?.rawValue ?? String(date)).\(date)"

        var lines: [String] = [
            "From: Mail Delivery System <MAILER-DAEMON@\(host)>",
            "To: <\(Self.clean(originalSender, limit: 512))>",
            "Subject: " + (failed ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)"),
            "Date: \(WallClock.rfc5322Date(milliseconds: date))",
            "Message-ID: <\(Self.clean(localPart, limit: 200))@\(host)>",
            // RFC 3834 §5.1: a message sent in direct response to another; Postfix and Exim
            // mark their bounces the same, and responders must not answer it.
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;",
            "\tboundary=\"\(boundary)\"",
            "",
            "This is a MIME-encapsulated message.",
            "",
            "--\(boundary)",
            "Content-Description: Notification",
            "Content-Type: text/plain; charset=us-ascii",
            "",
        ]
        lines += humanReadable(host: host, failed: failed)
        lines += ["", "--\(boundary)", "Content-Description: Delivery report", "Content-Type: message/delivery-status", ""]
        lines += statusFields(host: host)
        let eightBit = header.contains { $0 >= 0x80 }
        lines += [
            "--\(boundary)", "Content-Description: Undelivered Message Headers", "Content-Type: text/rfc822-headers",
        ]
        if eightBit { lines.append("Content-Transfer-Encoding: 8bit") }
        lines.append("")
        var bytes = Array(lines.joined(separator: "\r\n").utf8) + [0x0D, 0x0A]
        bytes += header
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    private func humanReadable(host: String, failed: Bool) -> [String] {
        var lines = [
            "This is the mail system at host \(host).", "",
            failed
                ? "Your message could not be delivered to one or more recipients. This is a permanent error."
                : "Your message has not yet been delivered to one or more recipients. The relay will keep trying.",
            "",
        ]
        for recipient in recipients.prefix(ReportFields.maxRecipients) {
            var line =
                "<\(Self.clean(recipient.address, limit: 512))>: \(recipient.action.rawValue), status \(Self.clean(recipient.status, limit: 16))"
            if let diagnostic = recipient.diagnostic { line += ": " + Self.clean(diagnostic, limit: 900) }
            lines += Self.wrap(line, indent: "    ")
        }
        return lines
    }

    private func statusFields(host: String) -> [String] {
        var lines = ["Reporting-MTA: dns; \(host)"]
        if let queueID { lines.append("X-Hikyaku-Queue-ID: \(queueID.rawValue)") }
        lines += ["Arrival-Date: \(WallClock.rfc5322Date(milliseconds: arrivalDate))", ""]
        for recipient in recipients.prefix(ReportFields.maxRecipients) {
            lines.append("Final-Recipient: rfc822; \(Self.clean(recipient.address, limit: 512))")
            lines.append("Action: \(recipient.action.rawValue)")
            lines.append("Status: \(TextScan.enhancedStatus(in: recipient.status) ?? (recipient.action == .failed ? "5.0.0" : "4.0.0"))")
            if let remote = recipient.remoteMTA { lines.append("Remote-MTA: dns; \(Self.clean(remote, limit: 255))") }
            if let diagnostic = recipient.diagnostic {
                lines += Self.wrap("Diagnostic-Code: smtp; \(Self.clean(diagnostic, limit: 900))", indent: "\t")
            }
            if let last = recipient.lastAttempt { lines.append("Last-Attempt-Date: \(WallClock.rfc5322Date(milliseconds: last))") }
            lines.append("")
        }
        return lines
    }

    /// The original header section with CRLF line ends, cut at its empty line and at
    /// `maxOriginalHeaderBytes` (at a line end).
    private func enclosedHeader() -> [UInt8] {
        let section = MIMEEntity.split(originalHeader[...]).0.prefix(Self.maxOriginalHeaderBytes)
        var output: [UInt8] = []
        output.reserveCapacity(section.count + 64)
        var lastLineEnd = 0
        for byte in section where byte != 0x0D {
            if byte == 0x0A {
                output += [0x0D, 0x0A]
                lastLineEnd = output.count
            } else {
                output.append(byte)
            }
        }
        if section.count == Self.maxOriginalHeaderBytes { output.removeSubrange(lastLineEnd...) }
        if !output.isEmpty, output.last != 0x0A { output += [0x0D, 0x0A] }
        return output
    }

    /// ASCII without controls, at most `limit` scalars: the report is 7-bit and one field
    /// per line whatever a remote server replied.
    static func clean(_ text: String, limit: Int) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit).map { $0.value >= 0x20 && $0.value < 0x7F ? $0 : "?" }))
    }

    /// Folds a long line at spaces (RFC 5322 §2.2.3) so that lines stay under 78 octets.
    static func wrap(_ line: String, indent: String) -> [String] {
        var result: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty, current.utf8.count + 1 + word.utf8.count > 76 {
                result.append(current)
                current = indent + word
            } else {
                current += (current.isEmpty ? "" : " ") + word
            }
        }
        result.append(current)
        return result
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}
