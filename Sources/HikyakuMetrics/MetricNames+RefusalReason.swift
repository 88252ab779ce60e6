extension MetricNames {
    /// Values of ``Label/reason`` on ``messagesRefused``.
    public enum RefusalReason: String, Sendable, Hashable, CaseIterable {
        /// An unauthenticated client outside the allow-list named a foreign recipient (`550 5.7.1`).
        case relayDenied = "relay_denied"
        /// A submission listener got MAIL before AUTH (`530 5.7.0`).
        case authRequired = "auth_required"
        /// AUTH was attempted with wrong credentials (`535 5.7.8`).
        case authFailed = "auth_failed"
        /// The message exceeded the size limit (`552 5.3.4`).
        case tooLarge = "too_large"
        /// More recipients than the transaction allows (`452 4.5.3`).
        case tooManyRecipients = "too_many_recipients"
        /// Redis did not durably accept the message, so no `250` was given (`451 4.3.0`).
        case queueUnavailable = "queue_unavailable"
        /// A connection over `ingest.max_connections_per_ip` (`421 4.7.0`, counted per connection).
        case tooManyConnections = "too_many_connections"
        /// A line or DATA that made too little progress (`ingest.command_timeout`,
        /// `ingest.min_data_rate`; `421 4.4.2`, counted per session).
        case tooSlow = "too_slow"
        /// More `Received:` fields than `ingest.max_received_headers`: a mail loop (`554 5.4.6`).
        case mailLoop = "mail_loop"
        /// An account limited to its sending domains put another in `From:` or `Sender:`, or
        /// the author fields are malformed (`550 5.7.1`, `550 5.6.0`).
        case fromDomain = "from_domain"
        /// The account's hourly or daily recipient quota is used up (`451 4.7.0`).
        case quota
        /// The header cannot be DKIM-signed (no or several `From:` fields; `550 5.6.0`).
        case unsignable
        /// A recipient on a suppression list (`550 5.1.1 … suppressed` at RCPT), or every
        /// recipient of a message by the time it was enqueued (`550 5.1.1` at the dot).
        case suppressed
        /// An `X-Hikyaku-Unsubscribe:` field the relay cannot honour: several recipients, no
        /// account, not set up, or a `List-Unsubscribe` already there (`550 5.6.0` at the dot).
        case unsubscribeHeader = "unsubscribe_header"
        /// A campaign row that was already enqueued (a runner's retry after a crash or a
        /// lost reply): refused, nothing written, the row counts as settled.
        case duplicate
    }
}
