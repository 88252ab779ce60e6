import RelayCore

/// The reported message's `Message-ID` and the relay's queue id, read from the headers a
/// report encloses (or quotes), so that a report naming no recipient — Microsoft JMRP
/// redacts it — still finds the relay's message.
struct OriginalIdentifiers: Equatable {
    var messageID: String?
    var queueID: String?

    var isEmpty: Bool { messageID == nil && queueID == nil }

    /// From an enclosed header section.
    init(header: MIMEHeader) {
        messageID = header.value("message-id").flatMap(Self.messageID)
        if let value = header.value("x-hikyaku-queue-id")?.trimmed, QueueID.isWellFormed(value) {
            queueID = value
        } else {
            queueID = header.values("received").lazy.compactMap(Self.queueID(inReceived:)).first
        }
    }

    /// From text that quotes the original headers (plain-text bounces): the first
    /// `Message-ID:` line and the first `(Hikyaku) with … id <queue id>`.
    init(quotedIn text: String) {
        messageID = nil
        queueID = Self.queueID(inReceived: text)
        for line in text.lines.prefix(20_000) {
            let trimmed = line.trimmed
            guard trimmed.utf8.count > 11, TextScan.lowercasedASCII(trimmed.prefix(11)) == "message-id:" else { continue }
            messageID = Self.messageID(String(trimmed.dropFirst(11)))
            if messageID != nil { break }
        }
    }

    init() {}

    mutating func fill(from other: OriginalIdentifiers) {
        if messageID == nil { messageID = other.messageID }
        if queueID == nil { queueID = other.queueID }
    }

    /// `<abc@host>` → `abc@host`.
    static func messageID(_ value: String) -> String? {
        var text = value.trimmed
        if let open = text.firstIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
            text = String(text[text.index(after: open)..<close])
        }
        text = text.trimmed
        return text.isEmpty || text.utf8.count > 998 || text.has(" ") ? nil : text
    }

    /// The queue id in the relay's trace field (Ingest's `ReceivedHeader`):
    /// `from h ([ip]) by relay.example (Hikyaku) with ESMTPSA id 01JDQ3T6Z8F0M4X2KP`.
    static func queueID(inReceived text: String) -> String? {
        var rest = Substring(text)
        while let marker = rest.byteRange(of: "(Hikyaku)") {
            let after = rest[marker.upperBound...].prefix(200)
            let words = after.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == ";" })
            for (index, word) in words.enumerated() where word == "id" && index + 1 < words.count {
                let candidate = String(words[index + 1])
                if QueueID.isWellFormed(candidate) { return candidate }
            }
            rest = rest[marker.upperBound...]
        }
        return nil
    }
}
