import FuzzSupport
import NIOCore
import SMTPProtocol

/// libFuzzer target: address parsing — ``Mailbox/init(parsing:)`` and the paths of
/// `MAIL FROM:<…>` / `RCPT TO:<…>` (RFC 5321 §4.1.2, §4.1.3; RFC 6531 §3.3).
///
/// Properties, beyond not crashing:
/// - a mailbox that parses is written by ``Mailbox/description`` (re-quoting the local
///   part where needed) as text that parses to the same mailbox;
/// - `Mailbox(parsing:)` and the command parser agree: `MAIL FROM:<x>` and `RCPT TO:<x>`
///   yield the mailbox `x` exactly when it parses;
/// - a path that parses is written (``ForwardPath/description``) as a path that parses to
///   the same recipient, without the source route;
/// - whatever the address (source routes, `%` and `!` paths, quoted local parts, address
///   literals, UTF-8), an outsider's RCPT is never accepted (no open relay).
@main
enum FuzzAddressParserMain {
    static func main() {
        runLibFuzzer(fuzzAddressParser)
    }
}

/// The input callback (also exported under libFuzzer's conventional name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddressParser(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = fuzzInput(data, count)
    MailboxProperties.check(String(decoding: input, as: UTF8.self))
    PathProperties.check(input)
    RelayProperties.check(input)
    return 0
}

enum MailboxProperties {
    static func check(_ text: String) {
        guard let mailbox = Mailbox(parsing: text) else {
            // Then MAIL FROM does not take it as a mailbox either (unless it is a source
            // route, which a path may have and a mailbox may not, or holds a ">" that ends
            // the path early). Octets, not Characters: "@" and a combining mark after it
            // are one Character.
            if text.utf8.first != UInt8(ascii: "@"), !text.utf8.contains(UInt8(ascii: ">")),
                case .mail(.mailbox(let other), _)? = parse("MAIL FROM:<" + text + ">")
            {
                fuzzFailure("MAIL FROM took \(other) from \(text.debugDescription), which Mailbox(parsing:) refuses")
            }
            return
        }
        let written = mailbox.description
        fuzzCheck(
            Mailbox(parsing: written) == mailbox,
            "\(text.debugDescription) → \(mailbox) written as \(written.debugDescription), which re-parses differently")
        _ = mailbox.normalizedDomain
        _ = mailbox.requiresSMTPUTF8
        fuzzCheck(mailbox.isAddressLiteral == mailbox.domain.hasPrefix("["), "address literal flag")

        switch parse("MAIL FROM:<" + text + "> SMTPUTF8") {
        case .mail(.mailbox(let other), _)?:
            fuzzCheck(other == mailbox, "MAIL FROM:<\(text)> gave \(other), Mailbox(parsing:) \(mailbox)")
        default:
            fuzzFailure("MAIL FROM:<\(text.debugDescription)> does not parse, but Mailbox(parsing:) gives \(mailbox)")
        }
        switch parse("RCPT TO:<" + text + ">") {
        case .rcpt(let path, _)?:
            fuzzCheck(path.mailbox == mailbox, "RCPT TO:<\(text)> gave \(path), Mailbox(parsing:) \(mailbox)")
        default:
            fuzzFailure("RCPT TO:<\(text.debugDescription)> does not parse, but Mailbox(parsing:) gives \(mailbox)")
        }
    }

    static func parse(_ line: String) -> SMTPCommand? {
        try? SMTPCommandParser.parse(bytes: Array(line.utf8))
    }
}

enum PathProperties {
    /// The input as the inside of a path, bytes as they are (not necessarily UTF-8).
    static func check(_ input: [UInt8]) {
        guard case .rcpt(let path, _)? = try? SMTPCommandParser.parse(bytes: Array("RCPT TO:<".utf8) + input + [0x3E]) else {
            return
        }
        let written = path.description
        guard case .rcpt(let again, _)? = try? SMTPCommandParser.parse(bytes: Array("RCPT TO:\(written)".utf8)) else {
            fuzzFailure("RCPT TO:<\(show(input))> parsed as \(path), written as \(written), which does not parse")
        }
        fuzzCheck(
            again.destination == path.destination && !again.hadSourceRoute,
            "RCPT TO:<\(show(input))> parsed as \(path), written as \(written), re-parsed as \(again)")
    }
}

enum RelayProperties {
    /// An outsider (relay listener, not allow-listed, not authenticated) names the input as
    /// a recipient, as a raw command line and as a path.
    static func check(_ input: [UInt8]) {
        var machine = SMTPServerStateMachine(
            configuration: SMTPServerConfiguration(hostname: "relay.test", startTLSAvailable: true, authMechanisms: ["PLAIN"]),
            isTLS: false)
        _ = machine.greeting()
        for line in ["EHLO outsider.test", "MAIL FROM:<spam@outsider.test> SMTPUTF8"] {
            guard case .reply(let reply) = machine.receiveLine(ByteBuffer(string: line)), reply.code == 250 else {
                fuzzFailure("session setup failed at \(line)")
            }
        }
        // As a path, as the whole argument, and as a whole line (which may be any command:
        // only an accepted recipient would be wrong then).
        for (index, line) in [Array("RCPT TO:<".utf8) + input + [0x3E], Array("RCPT TO:".utf8) + input, input].enumerated() {
            guard line.count <= 510 else { continue }
            switch machine.receiveLine(ByteBuffer(bytes: line)) {
            case .reply(let reply):
                fuzzCheck(
                    reply != .recipientOK && (index == 2 || reply.code / 100 != 2),
                    "an outsider's \(show(line)) was answered \(reply)")
            case .replyAndClose:
                return
            case .startTLS:
                machine.tlsEstablished()
                return
            case .checkCredentials, .checkRecipient, .startData, .enqueue:
                // An outsider's recipient is refused before any lookup.
                fuzzFailure("an outsider's \(show(line)) led to an unexpected action")
            }
        }
    }
}
