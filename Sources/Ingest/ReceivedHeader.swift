import RelayCore

/// The trace field the relay prepends (RFC 5321 §4.4, RFC 5322 §3.6.7):
///
///     Received: from client.example ([192.0.2.7])
///             by relay.example (Hikyaku) with ESMTPSA id 01JDQ3T6Z8F0M4X2KP
///             for <user@example.net>; Sun, 29 Nov 2026 01:02:03 +0000
///
/// `with` is the RFC 3848 protocol type (ESMTP, ESMTPS, ESMTPA, ESMTPSA). `for` is only
/// given for a single recipient so other recipients' addresses are not disclosed.
enum ReceivedHeader {
    static func render(
        heloName: String, clientIP: String, hostname: String, protocolName: String,
        queueID: QueueID, recipient: String?, date: String
    ) -> String {
        let helo = sanitize(heloName.isEmpty ? "unknown" : heloName)
        var text = "Received: from \(helo) ([\(clientIP)])\r\n\tby \(hostname) (Hikyaku) with \(protocolName) id \(queueID)"
        if let recipient {
            text += "\r\n\tfor <\(sanitize(recipient))>"
        }
        text += "; \(date)\r\n"
        return text
    }

    /// Keeps client-chosen text from breaking the header (no CR, LF, or other controls).
    private static func sanitize(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x21 && $0.value != 0x7F }.prefix(255).map(Character.init))
    }
}
