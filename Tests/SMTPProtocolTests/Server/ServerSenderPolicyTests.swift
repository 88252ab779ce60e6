import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPServerStateMachine: an account's sender policy")
struct ServerSenderPolicyTests {
    static let acme = SenderPolicy(accountName: "acme", allowedDomains: ["acme.example"], maxMessageSize: 500, maxRecipients: 2)

    @Test func senderMustBeInTheAccountsDomainsOrTheirSubdomains() {
        var script = ServerScript(Configs.allowListed())
        script.machine.setSenderPolicy(Self.acme)
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<news@other.example>", .reply(553, "5.7.1")),
            ("MAIL FROM:<>", .reply(553, "5.7.1")),  // no bounces in a tenant's name
            ("MAIL FROM:<news@notacme.example>", .reply(553, "5.7.1")),  // a suffix is not a subdomain
            ("MAIL FROM:<news@Mail.ACME.example>", .reply(250)),
            ("RSET", .reply(250)),
            ("MAIL FROM:<news@acme.example>", .reply(250)),
        ])
    }

    @Test func theAccountsLimitsApplyUnderTheListenersOnes() {
        var script = ServerScript(Configs.allowListed())
        script.machine.setSenderPolicy(Self.acme)
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@acme.example> SIZE=600", .reply(552, "5.3.4")),  // account: 500; listener: 1000
            ("MAIL FROM:<a@acme.example> SIZE=400", .reply(250)),
            ("RCPT TO:<1@example.org>", .reply(250)),
            ("RCPT TO:<2@example.org>", .reply(250)),
            ("RCPT TO:<3@example.org>", .reply(452, "4.5.3")),
            ("DATA", .startData),
        ])
        script.check(script.machine.dataEnded(DataSummary(size: 501)), .reply(552, "5.3.4"))
    }

    @Test func aPausedAccountIsToldToComeBackAtMail() {
        var script = ServerScript(Configs.allowListed())
        let pause = SMTPReply(451, "4.7.1", "Account acme is paused: too many bounces; contact the relay operator")
        script.machine.setSenderPolicy(SenderPolicy(accountName: "acme", refusal: pause))
        script.run([
            ("EHLO client", .reply(250)),
            ("MAIL FROM:<a@acme.example>", .reply(451, "4.7.1")),
            ("MAIL FROM:<a@acme.example>", .reply(451, "4.7.1")),
        ])
    }

    @Test func withoutDomainsAnySenderIsAllowed() {
        #expect(SenderPolicy(accountName: "legacy").allows(domain: "anything.example"))
        #expect(!SenderPolicy(accountName: "strict", allowedDomains: []).allows(domain: "anything.example"))
    }

    @Test func aLockedOutAuthIsATemporaryRefusalThatCountsAsBad() {
        var script = ServerScript(Configs.submission(), isTLS: true)
        script.run([
            ("EHLO client", .reply(250)),
            ("AUTH PLAIN \(ServerAuthTests.plainAlice)", .checkCredentials(username: "alice", password: "s3cret", mechanism: "PLAIN")),
        ])
        guard case .reply(let reply) = script.machine.credentialsChecked(.lockedOut(seconds: 42)) else {
            Issue.record("expected a reply")
            return
        }
        #expect(reply.code == 454)
        #expect(reply.lines.joined().contains("try again in 42 seconds"))
        #expect(script.machine.authenticatedUser == nil)
    }
}
