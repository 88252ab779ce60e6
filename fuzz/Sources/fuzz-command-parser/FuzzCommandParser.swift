import FuzzSupport
import NIOCore
import SMTPProtocol

/// libFuzzer target: ``SMTPCommandParser`` and ``SMTPServerStateMachine`` (RFC 5321 §4.1).
///
/// Properties, beyond not crashing:
/// - parse ∘ encode ∘ parse = parse: a command that parses is written by
///   ``SMTPCommand/encode(into:)`` as one CRLF-terminated line that parses to the same
///   command (a dropped source route aside), so what we relay is what we understood;
/// - every reply, including error replies that quote client input, is well-formed:
///   each line `code[- ]text CRLF`, no CR or LF inside a line (no reply injection);
/// - the input, split into lines, driven through a session of a client that is neither
///   allow-listed nor authenticated, never gets a recipient accepted, never reaches DATA
///   and never enqueues (no open relay, DESIGN.md property 2).
@main
enum FuzzCommandParserMain {
    static func main() {
        runLibFuzzer(fuzzCommandParser)
    }
}

/// The input callback (also exported under libFuzzer's conventional name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandParser(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = fuzzInput(data, count)
    CommandRoundTrip.check(line: input)
    SessionProperties.check(input)
    return 0
}

enum CommandRoundTrip {
    static func check(line: [UInt8]) {
        let command: SMTPCommand
        do {
            command = try SMTPCommandParser.parse(bytes: line)
        } catch {
            ReplyProperties.check(error.reply, context: "error reply for \(show(line))")
            return
        }
        var buffer = ByteBuffer()
        command.encode(into: &buffer)
        let encoded = Array(buffer.readableBytesView)
        fuzzCheck(encoded.count >= 2 && encoded.suffix(2) == [0x0D, 0x0A], "encoding of \(command) does not end in CRLF")
        let body = Array(encoded.dropLast(2))
        fuzzCheck(!body.contains(0x0D) && !body.contains(0x0A), "encoding of \(command) has CR/LF inside: \(show(encoded))")
        let reparsed: SMTPCommand
        do {
            reparsed = try SMTPCommandParser.parse(bytes: body)
        } catch {
            fuzzFailure("\(show(line)) parsed as \(command), encoded as \(show(body)), which does not parse: \(error)")
        }
        fuzzCheck(
            normalized(reparsed) == normalized(command),
            "\(show(line)) parsed as \(command), encoded as \(show(body)), re-parsed as \(reparsed)")
    }

    /// The command as it is sent on: source routes are dropped (RFC 5321 §4.1.1.3, appendix C).
    static func normalized(_ command: SMTPCommand) -> SMTPCommand {
        guard case .rcpt(var path, let parameters) = command else { return command }
        path.hadSourceRoute = false
        return .rcpt(path, parameters)
    }
}

enum ReplyProperties {
    /// A reply encodes to lines `code SP/- text CRLF` with nothing injected.
    static func check(_ reply: SMTPReply, context: @autoclosure () -> String) {
        fuzzCheck((200...599).contains(reply.code), "reply code \(reply.code) out of range (\(context()))")
        var buffer = ByteBuffer()
        reply.encode(into: &buffer)
        let bytes = Array(buffer.readableBytesView)
        fuzzCheck(hasOnlyCRLFLineEnds(bytes) && bytes.suffix(2) == [0x0D, 0x0A], "malformed reply \(show(bytes)) (\(context()))")
        let code = Array("\(reply.code)".utf8)
        var lineStart = 0
        for index in bytes.indices where bytes[index] == 0x0A {
            let line = bytes[lineStart..<index - 1]
            fuzzCheck(line.starts(with: code), "reply line \(show(line)) does not start with \(reply.code) (\(context()))")
            lineStart = index + 1
        }
    }
}

/// Drives a server session with the input's lines.
enum SessionProperties {
    static func check(_ input: [UInt8]) {
        // An outsider on a relay listener that offers AUTH even without TLS (so the AUTH
        // exchanges are reachable); every credential check fails.
        let outsider = SMTPServerConfiguration(
            hostname: "mx.test", maxMessageSize: 4096, maxRecipients: 5, startTLSAvailable: true,
            authMechanisms: ["PLAIN", "LOGIN"], allowAuthWithoutTLS: true, clientIsAllowListed: false,
            refusalWhenNotPermitted: .relayDenied)
        self.run(input, configuration: outsider, mayRelay: false)
        // An allow-listed client: transactions complete; its recipients are looked up (as
        // ingest does for suppression lists) and some refused.
        var insider = outsider
        insider.clientIsAllowListed = true
        insider.checksRecipients = true
        self.run(input, configuration: insider, mayRelay: true)
    }

    static func run(_ input: [UInt8], configuration: SMTPServerConfiguration, mayRelay: Bool) {
        var machine = SMTPServerStateMachine(configuration: configuration, isTLS: false)
        ReplyProperties.check(machine.greeting(), context: "greeting")
        for var line in input.split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.last == 0x0D {
                line = line.dropLast()
            }
            // The framer's limits: 512 octets with CRLF for commands, 12288 for AUTH responses.
            let limit = machine.framerMode == .authResponse ? SMTPLimits.authResponseLineLength : SMTPLimits.commandLineLength
            var action = line.count + 2 > limit ? machine.receiveLineTooLong() : machine.receiveLine(ByteBuffer(bytes: line))
            // Complete the asynchronous steps the way the handler would.
            while true {
                switch action {
                case .reply(let reply):
                    ReplyProperties.check(reply, context: "reply to \(show(line))")
                    if !mayRelay, reply == .recipientOK {
                        fuzzFailure("RCPT accepted for a client that may not relay: \(show(line)) → \(reply)")
                    }
                case .replyAndClose(let reply):
                    ReplyProperties.check(reply, context: "closing reply to \(show(line))")
                    fuzzCheck(machine.isClosed, "replyAndClose but the session is not closed")
                    return
                case .startTLS(let reply):
                    ReplyProperties.check(reply, context: "STARTTLS reply")
                    machine.tlsEstablished()
                case .checkCredentials:
                    action = machine.credentialsChecked(.failure)
                    continue
                case .checkRecipient(let mailbox):
                    // Asked only once relaying is allowed; refuse some (a suppression list would).
                    fuzzCheck(mayRelay, "recipient looked up for a client that may not relay")
                    let refusal = mailbox.localPart.utf8.count % 2 == 1 ? SMTPReply(550, "5.1.1", "suppressed") : nil
                    action = machine.recipientChecked(refusal: refusal)
                    continue
                case .startData(let reply):
                    fuzzCheck(mayRelay, "DATA started for a client that may not relay")
                    ReplyProperties.check(reply, context: "DATA reply")
                    fuzzCheck(machine.framerMode == .data, "framer not in data mode after 354")
                    action = machine.dataEnded(DataSummary(size: 100))
                    continue
                case .enqueue(let transaction):
                    fuzzCheck(mayRelay, "message enqueued for a client that may not relay")
                    fuzzCheck(!transaction.recipients.isEmpty, "enqueued without recipients")
                    fuzzCheck(transaction.recipients.count <= configuration.maxRecipients, "more recipients than allowed")
                    action = machine.messageQueued(.queued("Q1"))
                    continue
                }
                break
            }
        }
    }
}
