import NIOCore

extension SMTPCommand {
    /// Writes the command and its CRLF, as a client sends it (RFC 5321 §4.1.1).
    ///
    /// ```
    /// C: MAIL FROM:<a@example.com> SIZE=1000 BODY=8BITMIME SMTPUTF8\r\n
    /// ```
    /// Verbs are written in upper case; `NOOP` is written without an argument.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString(self.verb)
        switch self {
        case .ehlo(let domain), .helo(let domain):
            buffer.writeString(" \(domain)")
        case .mail(let path, let parameters):
            buffer.writeString(" FROM:\(path)")
            parameters.encode(into: &buffer)
        case .rcpt(let path, let parameters):
            buffer.writeString(" TO:\(path)")
            for parameter in parameters {
                buffer.writeString(" \(parameter)")
            }
        case .vrfy(let argument):
            buffer.writeString(" \(argument)")
        case .help(let topic):
            if let topic {
                buffer.writeString(" \(topic)")
            }
        case .auth(let mechanism, let initialResponse):
            buffer.writeString(" \(mechanism)")
            if let initialResponse {
                buffer.writeString(" \(initialResponse)")
            }
        case .data, .rset, .noop, .quit, .startTLS:
            break
        }
        buffer.writeString("\r\n")
    }
}

extension MailParameters {
    /// Writes each parameter preceded by a space: `SIZE`, `BODY`, `SMTPUTF8`, then ``other``.
    func encode(into buffer: inout ByteBuffer) {
        if let size = self.size {
            buffer.writeString(" SIZE=\(size)")
        }
        switch self.body {
        case .sevenBit: buffer.writeString(" BODY=7BIT")
        case .eightBitMIME: buffer.writeString(" BODY=8BITMIME")
        case nil: break
        }
        if self.smtpUTF8 {
            buffer.writeString(" SMTPUTF8")
        }
        for parameter in self.other {
            buffer.writeString(" \(parameter)")
        }
    }
}
