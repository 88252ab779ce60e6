import SMTPProtocol

/// RFC 5321 §6.3: a message carrying more `Received:` fields than
/// `ingest.max_received_headers` has been round a loop; it is refused at the dot rather
/// than queued for yet another turn.
///
///     C: .
///     S: 554 5.4.6 Mail loop: the message has 31 Received: header fields, more than 30 (RFC 5321 §6.3)
enum LoopDetection {
    /// The refusal for a message whose header section had `receivedFields` `Received:`
    /// fields (the relay's own not counted), or nil when it is within `limit`.
    static func refusal(receivedFields: Int, limit: Int) -> SMTPReply? {
        guard receivedFields > limit else { return nil }
        return SMTPReply(
            554, "5.4.6", "Mail loop: the message has \(receivedFields) Received: header fields, more than \(limit) (RFC 5321 §6.3)")
    }
}
