import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPCommandParser: errors and their replies")
struct CommandParserErrorTests {
    @Test(arguments: ["", "FOO", "FOO bar", "MAILFROM:<a@example.com>", "EHL0 x", "ÉHLO x", "\u{0}EHLO x", "E\u{0}HLO x"])
    func unrecognizedCommand(line: String) {
        #expect(throws: SMTPCommandError.unrecognizedCommand) { try parse(line) }
    }

    @Test(arguments: ["EXPN staff", "TURN", "ETRN example.com", "BDAT 100 LAST", "ATRN", "SEND FROM:<a@b.c>", "XCLIENT ADDR=1.2.3.4"])
    func notImplemented(line: String) {
        #expect(throws: SMTPCommandError.commandNotImplemented) { try parse(line) }
    }

    @Test(arguments: ["GET / HTTP/1.1", "POST /submit HTTP/1.1", "CONNECT mx.example:25 HTTP/1.1"])
    func forbiddenCommandsCloseTheConnection(line: String) {
        #expect(throws: SMTPCommandError.forbiddenCommand) { try parse(line) }
        do {
            _ = try parse(line)
        } catch {
            #expect(error.closesConnection)
        }
    }

    @Test(arguments: [
        "EHLO", "HELO", "EHLO a b", "EHLO a\u{0}b", "EHLO a\u{7F}", "DATA now", "RSET x", "QUIT now", "STARTTLS x",
        "VRFY", "VRFY a\u{1}b", "HELP a\u{1B}", "MAIL TO:<a@example.com>", "MAIL FROM <a@example.com>", "MAIL <a@example.com>",
        "RCPT FROM:<a@example.com>", "RCPT <a@example.com>", "AUTH", "AUTH PLAIN a b", "AUTH PL@IN",
        "AUTH ABCDEFGHIJKLMNOPQRSTU", "AUTH PLAIN \u{1}",
    ])
    func invalidArguments(line: String) {
        #expect(throws: SMTPCommandError.invalidArguments) { try parse(line) }
    }

    @Test(arguments: [
        "MAIL FROM:alice@example.com", "MAIL FROM:<alice@example.com", "MAIL FROM:alice@example.com>",
        "MAIL FROM:<alice@exa mple.com>", "MAIL FROM:<alice@-example.com>", "MAIL FROM:<alice@example..com>",
        "MAIL FROM:<a\u{0}b@example.com>", "MAIL FROM:<\"a\u{1}\"@example.com>", "MAIL FROM:<a\tb@example.com>",
        "MAIL FROM:<alice@[300.1.1.1]>", "MAIL FROM:<postmaster>", "MAIL FROM:<alice@>", "MAIL FROM:<@example.com>",
        "MAIL FROM:<.alice@example.com>", "MAIL FROM:<alice.@example.com>", "MAIL FROM:<alice@exa_mple.com>",
        "MAIL FROM:<alice>", "MAIL FROM:", "MAIL FROM:<<alice@example.com>>", "MAIL FROM:<@relay.example alice@example.com>",
        "MAIL FROM:<\"unterminated@example.com>",
    ])
    func badSenderAddress(line: String) {
        #expect(throws: SMTPCommandError.badSenderAddress) { try parse(line) }
    }

    @Test(arguments: [
        "RCPT TO:<>", "RCPT TO:bob@example.org", "RCPT TO:<bob@example.org", "RCPT TO:<@a.example:>",
        "RCPT TO:<@a.example,bob@example.org>", "RCPT TO:<@[192.0.2.1]:bob@example.org>",
        "RCPT TO:<bob@[IPv6:1::2::3]>", "RCPT TO:<bob@example.org\r>", "RCPT TO:<bob\n@example.org>",
        "RCPT TO:<postmaster", "RCPT TO:<bob@example.org\u{0}>",
    ])
    func badRecipientAddress(line: String) {
        #expect(throws: SMTPCommandError.badRecipientAddress) { try parse(line) }
    }

    @Test func invalidUTF8InAddressIsRefused() {
        let line: [UInt8] = bytes("RCPT TO:<") + [0xC3, 0x28] + bytes("@example.org>")
        #expect(throws: SMTPCommandError.badRecipientAddress) { try SMTPCommandParser.parse(bytes: line) }
        let domain: [UInt8] = bytes("MAIL FROM:<a@ex") + [0xFF] + bytes(".org>")
        #expect(throws: SMTPCommandError.badSenderAddress) { try SMTPCommandParser.parse(bytes: domain) }
    }

    @Test(arguments: [
        "MAIL FROM:<a@example.com> FOO=1", "MAIL FROM:<a@example.com> X-CUSTOM", "MAIL FROM:<a@example.com> NOTIFY=NEVER",
        "RCPT TO:<b@example.org> FOO", "RCPT TO:<b@example.org> SIZE=1",
    ])
    func unrecognizedParameter(line: String) {
        #expect(throws: SMTPCommandError.unrecognizedParameter) { try parse(line) }
    }

    @Test(arguments: [
        "MAIL FROM:<a@example.com> SIZE=abc", "MAIL FROM:<a@example.com> SIZE=", "MAIL FROM:<a@example.com> SIZE",
        "MAIL FROM:<a@example.com> SIZE=-1", "MAIL FROM:<a@example.com> BODY=BINARYMIME", "MAIL FROM:<a@example.com> BODY",
        "MAIL FROM:<a@example.com> SMTPUTF8=yes", "MAIL FROM:<a@example.com> SIZE=1 SIZE=2",
        "MAIL FROM:<a@example.com>SIZE=1", "MAIL FROM:<a@example.com> =1", "MAIL FROM:<a@example.com> -X=1",
        "MAIL FROM:<a@example.com> ENVID=a=b", "MAIL FROM:<a@example.com> ENVID=a\u{1}",
        "RCPT TO:<b@example.org> NOTIFY=NEVER NOTIFY=NEVER",
    ])
    func badParameterSyntax(line: String) {
        #expect(throws: SMTPCommandError.invalidArguments) { try parse(line) }
    }

    @Test func repliesCarryTheRightCodes() {
        func check(_ error: SMTPCommandError, _ code: Int, _ enhanced: String) {
            #expect(error.reply.code == code)
            #expect(error.reply.enhancedStatus?.description == enhanced)
        }
        check(.unrecognizedCommand, 500, "5.5.2")
        check(.commandNotImplemented, 502, "5.5.1")
        check(.invalidArguments, 501, "5.5.4")
        check(.badSenderAddress, 501, "5.1.7")
        check(.badRecipientAddress, 501, "5.1.3")
        check(.unrecognizedParameter, 555, "5.5.4")
        #expect(encoded(SMTPCommandError.unrecognizedCommand.reply) == "500 5.5.2 Syntax error, command unrecognized\r\n")
        #expect(encoded(SMTPCommandError.commandNotImplemented.reply) == "502 5.5.1 Command not implemented\r\n")
        #expect(encoded(SMTPCommandError.badSenderAddress.reply) == "501 5.1.7 Bad sender address syntax\r\n")
        #expect(encoded(SMTPCommandError.badRecipientAddress.reply) == "501 5.1.3 Bad recipient address syntax\r\n")
    }

    @Test func errorDetailNamesTheParameter() {
        do {
            _ = try parse("MAIL FROM:<a@example.com> FOO=1")
            Issue.record("expected an error")
        } catch {
            #expect(error.reply.lines == ["Unsupported parameter: FOO"])
        }
    }
}
