import NIOCore

/// Builds the numbered test messages.
struct MessageFactory: Sendable {
    let size: Int
    let sender: String
    let run: String
    let domains: DomainMix
    let users: Int

    func recipient(for seq: Int) -> String {
        "user\(seq % max(1, users))@\(domains.domain(for: seq))"
    }

    /// Headers identifying the message, then a body of printable lines up to `size`.
    func message(seq: Int, recipient: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size + 256)
        buffer.writeString("From: <\(sender)>\r\nTo: <\(recipient)>\r\nSubject: load test \(seq)\r\n")
        buffer.writeString("Message-ID: <\(seq).\(run)@hikyaku-load>\r\nX-Loadtest-Seq: \(seq)\r\n")
        buffer.writeString("Date: Thu, 1 Jan 2026 00:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n")
        let line = "The quick brown fox jumps over the lazy dog 0123456789.\r\n"
        while buffer.readableBytes + line.utf8.count <= size {
            buffer.writeString(line)
        }
        return buffer
    }
}

/// The same numbered messages as JSON for the HTTP API (`POST /v1/messages`, one message;
/// `POST /v1/messages/batch`, one template and a personalization per message). Each
/// message carries `X-Loadtest-Seq: N` as a header field; the relay sets the Message-ID.
extension MessageFactory {
    /// A `text` of printable lines so the composed message is about `size` octets.
    var jsonText: String {
        let line = "The quick brown fox jumps over the lazy dog 0123456789.\\r\\n"
        // Headers the relay writes (From, To, Subject, Date, Message-ID, MIME) take about 300.
        let lines = max(1, (size - 300) / 57)
        return String(repeating: line, count: lines)
    }

    func singleJSON(seq: Int, recipient: String, text: String) -> ByteBuffer {
        ByteBuffer(
            string: """
                {"from":\(Self.quoted(sender)),"to":\(Self.quoted(recipient)),"subject":"load test \(seq)",\
                "headers":{"X-Loadtest-Seq":"\(seq)"},"text":"\(text)"}
                """)
    }

    func batchJSON(seqs: [Int], text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(text.utf8.count + 128 + seqs.count * 96)
        buffer.writeString(#"{"from":\#(Self.quoted(sender)),"subject":"load test","text":"\#(text)","personalizations":["#)
        for (index, seq) in seqs.enumerated() {
            if index > 0 { buffer.writeString(",") }
            buffer.writeString(#"{"to":\#(Self.quoted(recipient(for: seq))),"headers":{"X-Loadtest-Seq":"\#(seq)"}}"#)
        }
        buffer.writeString("]}")
        return buffer
    }

    /// A JSON string (RFC 8259 §7) of an address given on the command line.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
