import ArgumentParser
import BounceMessages
import Foundation
import HikyakuApp
import RelayCore

extension Bounce {
    /// `hikyaku bounce parse [--json] FILE...`.
    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read bounce, complaint and auto-reply messages and print what each reports.",
            discussion: """
                Each FILE (or standard input, without FILE or with -) is one whole message as \
                received (RFC 5322). It is read as an RFC 3464 delivery status notification, an \
                older plain-text bounce (qmail, Exim, Sendmail, Postfix, Exchange, Yahoo, AOL, \
                Domino, GroupWise, …), an RFC 5965 feedback report (ARF: Yahoo CFL, Microsoft \
                JMRP) or an RFC 3834 automatic reply, and printed with the failed or delayed \
                recipients (status, diagnostic, remote MTA) and the original message's Message-ID \
                and queue id when its headers are enclosed. Only the first 1 MiB is read.

                --json prints one array: per file, file, kind (dsn, complaint, auto_reply, \
                unrecognized), format, recipients[{recipient, status, diagnostic, action, \
                remote_mta, format}], original_message_id, original_queue_id, and for a \
                complaint complaint{feedback_type, original_recipient, original_mail_from, \
                arrival_date, source_ip, user_agent}.
                """)

        @Flag(help: "Print JSON (see above) instead of text.")
        var json = false

        @Argument(help: ArgumentHelp("Message files (default: standard input).", valueName: "file"))
        var files: [String] = []

        /// For tests of the composer by independent readers (Python's email, flufl.bounce).
        @Flag(help: .hidden)
        var composeExample = false

        func run() throws {
            if composeExample {
                print(String(decoding: Self.exampleDSN(), as: UTF8.self), terminator: "")
                return
            }
            var results: [ParsedFile] = []
            for file in files.isEmpty ? ["-"] : files {
                let bytes: [UInt8]
                if file == "-" {
                    bytes = Array(FileHandle.standardInput.readDataToEndOfFile().prefix(BounceParser.maxBytes))
                } else {
                    guard let handle = FileHandle(forReadingAtPath: file) else { throw OperatorError("cannot read \(file)") }
                    bytes = Array((try handle.read(upToCount: BounceParser.maxBytes)) ?? Data())
                    try? handle.close()
                }
                results.append(ParsedFile(file: file, report: BounceParser.parse(bytes)))
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: RemoteText.escapingC1(json: try encoder.encode(results)), as: UTF8.self))
            } else {
                for result in results { print(result.text) }
            }
        }
    }
}

extension Bounce.Parse {
    /// A DSN as the relay composes it: one failed and one delayed recipient.
    static func exampleDSN() -> [UInt8] {
        let header = Array(
            ("Received: from app.acme.example ([192.0.2.7])\r\n\tby relay.example (Hikyaku) with ESMTPSA id 01JDQ3T6Z8F0M4X2KP\r\n"
                + "\tfor <nobody@example.net>; Sun, 29 Nov 2026 01:02:03 +0000\r\nFrom: Shop <shop@acme.example>\r\n"
                + "To: nobody@example.net\r\nSubject: Your order\r\nMessage-ID: <order-42@acme.example>\r\n").utf8)
        return DeliveryStatusNotification(
            reportingMTA: "relay.example", originalSender: "shop@acme.example",
            recipients: [
                .init(
                    address: "nobody@example.net", action: .failed, status: "5.1.1",
                    diagnostic: "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown", remoteMTA: "mx.example.net",
                    lastAttempt: 1_796_000_050_000),
                .init(address: "later@example.org", action: .delayed, status: "4.4.1", diagnostic: "451 4.4.1 try again later"),
            ],
            originalHeader: header, arrivalDate: 1_796_000_000_000, queueID: QueueID(rawValue: "01JDQ3T6Z8F0M4X2KP"),
            date: 1_796_000_100_000
        ).render()
    }
}

/// One file's result, in the shape `--json` prints.
private struct ParsedFile: Encodable {
    struct Recipient: Encodable {
        var recipient, status, diagnostic, action, remoteMTA: String?
        var format: String
        enum CodingKeys: String, CodingKey {
            case recipient, status, diagnostic, action, format
            case remoteMTA = "remote_mta"
        }
    }
    struct ComplaintFields: Encodable {
        var feedbackType, originalRecipient, originalMailFrom, arrivalDate, sourceIP, userAgent: String?
        enum CodingKeys: String, CodingKey {
            case feedbackType = "feedback_type", originalRecipient = "original_recipient", originalMailFrom = "original_mail_from"
            case arrivalDate = "arrival_date", sourceIP = "source_ip", userAgent = "user_agent"
        }
    }

    var file: String
    var kind: String
    var format: String?
    var recipients: [Recipient] = []
    var originalMessageID: String?
    var originalQueueID: String?
    var complaint: ComplaintFields?

    enum CodingKeys: String, CodingKey {
        case file, kind, format, recipients, complaint
        case originalMessageID = "original_message_id", originalQueueID = "original_queue_id"
    }

    init(file: String, report: InboundReport) {
        self.file = file
        kind = report.kindName
        switch report {
        case .deliveryStatus(let failed):
            recipients = failed.map {
                Recipient(
                    recipient: $0.recipient, status: $0.status, diagnostic: $0.diagnostic, action: $0.action, remoteMTA: $0.remoteMTA,
                    format: $0.format)
            }
            format = failed.first?.format
            originalMessageID = failed.first?.originalMessageID
            originalQueueID = failed.first?.originalQueueID
        case .complaint(let report):
            format = "arf"
            complaint = ComplaintFields(
                feedbackType: report.feedbackType, originalRecipient: report.originalRecipient, originalMailFrom: report.originalMailFrom,
                arrivalDate: report.arrivalDate, sourceIP: report.sourceIP, userAgent: report.userAgent)
            originalMessageID = report.originalMessageID
            originalQueueID = report.originalQueueID
        case .autoReply, .unrecognized:
            break
        }
    }

    var text: String {
        var lines = ["\(RemoteText.sanitized(file)): \(kind)" + (format.map { " (\($0))" } ?? "")]
        for recipient in recipients {
            var line = "  \(recipient.action ?? "failed") \(recipient.recipient ?? "(no address)") \(recipient.status ?? "-")"
            if let diagnostic = recipient.diagnostic { line += " \(diagnostic)" }
            if let remote = recipient.remoteMTA { line += " [\(remote)]" }
            lines.append(RemoteText.sanitized(line))
        }
        if let complaint {
            lines.append(
                RemoteText.sanitized(
                    "  feedback-type \(complaint.feedbackType ?? "-"), recipient \(complaint.originalRecipient ?? "(redacted)"), mail-from \(complaint.originalMailFrom ?? "-"), source-ip \(complaint.sourceIP ?? "-")"
                ))
        }
        if originalMessageID != nil || originalQueueID != nil {
            lines.append(RemoteText.sanitized("  original: message-id \(originalMessageID ?? "-"), queue id \(originalQueueID ?? "-")"))
        }
        return lines.joined(separator: "\n")
    }
}
