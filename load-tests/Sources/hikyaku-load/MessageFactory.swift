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
