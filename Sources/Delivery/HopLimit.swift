import RelayCore

/// Loop detection for queued messages (RFC 5321 §6.3): a message with more `Received:`
/// fields than `ingest.max_received_headers` is bounced rather than sent round again —
/// the same limit ingest applies at the dot, for a message that got into the queue all the
/// same (accepted by an ingest with a higher limit, or before the limit existed).
enum HopLimit {
    /// The bounce reply for a stored message that is over `limit`, or nil. The stored
    /// message starts with the `Received:` field this relay's ingest prepended, which the
    /// limit does not count (as at the dot).
    static func refusal<Bytes: Sequence<UInt8>>(storedMessage: Bytes, limit: Int) -> String? {
        let arrived = ReceivedFields.count(inHeaderOf: storedMessage) - 1
        guard arrived > limit else { return nil }
        return "554 5.4.6 Mail loop: the message arrived with \(arrived) Received: header fields, more than \(limit) (RFC 5321 §6.3)"
    }
}
