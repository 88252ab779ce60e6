/// What an inbound message to the bounce listener turned out to be.
public enum InboundReport: Sendable, Equatable {
    /// A delivery status notification: RFC 3464 `multipart/report`, or one of the older
    /// plain-text formats MTAs still send (qmail, Exim, Sendmail, Exchange, Yahoo, …).
    /// Only recipients whose action is `failed` or `delayed` are listed (possibly none, for
    /// a report of successful delivery).
    case deliveryStatus([FailedRecipient])
    /// An abuse or feedback report (RFC 5965 ARF; Yahoo CFL, Microsoft JMRP).
    case complaint(Complaint)
    /// An automatic reply (RFC 3834: vacation, out of office): nothing to act on.
    case autoReply
    /// Neither a report nor an automatic reply the parser knows.
    case unrecognized

    /// `dsn`, `complaint`, `auto_reply` or `unrecognized` (the CLI's and the corpus' names).
    public var kindName: String {
        switch self {
        case .deliveryStatus: "dsn"
        case .complaint: "complaint"
        case .autoReply: "auto_reply"
        case .unrecognized: "unrecognized"
        }
    }
}

/// One recipient of a delivery status notification whose delivery failed or is delayed.
public struct FailedRecipient: Sendable, Equatable {
    /// The address (`Final-Recipient`, else `Original-Recipient`, without the `rfc822;`
    /// type); nil when the report names none.
    public var recipient: String?
    /// The enhanced status code (RFC 3463), e.g. `5.1.1`.
    public var status: String?
    /// The remote server's reply (`Diagnostic-Code` without `smtp;`), e.g.
    /// `550 5.1.1 <x@example.com>: user unknown`.
    public var diagnostic: String?
    /// `failed` or `delayed` (RFC 3464 §2.3.3).
    public var action: String?
    /// The server that gave the reply (`Remote-MTA` without `dns;`).
    public var remoteMTA: String?
    /// The reported message's `Message-ID` (no angle brackets), from its enclosed headers.
    public var originalMessageID: String?
    /// The relay's queue id of the reported message, from its `Received: … (Hikyaku) with
    /// … id <queue id>` field (or an `X-Hikyaku-Queue-ID` field) in the enclosed headers.
    public var originalQueueID: String?
    /// The report's format: `rfc3464`, `exim`, `qmail`, `postfix`, `sendmail`, `exchange`, …
    public var format: String

    public init(
        recipient: String?, status: String? = nil, diagnostic: String? = nil, action: String? = "failed",
        remoteMTA: String? = nil, originalMessageID: String? = nil, originalQueueID: String? = nil, format: String = "rfc3464"
    ) {
        self.recipient = recipient
        self.status = status
        self.diagnostic = diagnostic
        self.action = action
        self.remoteMTA = remoteMTA
        self.originalMessageID = originalMessageID
        self.originalQueueID = originalQueueID
        self.format = format
    }
}

/// An abuse/feedback report (RFC 5965 §3.1-3.2).
public struct Complaint: Sendable, Equatable {
    /// `Feedback-Type`: `abuse`, `fraud`, `virus`, `other`, `not-spam`, …
    public var feedbackType: String?
    /// `Original-Rcpt-To`; nil when redacted or absent (Microsoft JMRP and Yahoo CFL
    /// redact it: match `originalMessageID`/`originalQueueID` instead).
    public var originalRecipient: String?
    /// `Original-Mail-From` (the relay's envelope sender of the reported message).
    public var originalMailFrom: String?
    /// `Arrival-Date` as written.
    public var arrivalDate: String?
    /// `Source-IP`.
    public var sourceIP: String?
    /// `User-Agent` of the reporting system (e.g. `Yahoo!-Mail-Feedback/2.0`).
    public var userAgent: String?
    public var originalMessageID: String?
    public var originalQueueID: String?

    public init(
        feedbackType: String? = nil, originalRecipient: String? = nil, originalMailFrom: String? = nil, arrivalDate: String? = nil,
        sourceIP: String? = nil, userAgent: String? = nil, originalMessageID: String? = nil, originalQueueID: String? = nil
    ) {
        self.feedbackType = feedbackType
        self.originalRecipient = originalRecipient
        self.originalMailFrom = originalMailFrom
        self.arrivalDate = arrivalDate
        self.sourceIP = sourceIP
        self.userAgent = userAgent
        self.originalMessageID = originalMessageID
        self.originalQueueID = originalQueueID
    }
}
