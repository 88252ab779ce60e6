import RelayCore
import SMTPProtocol
import Testing

@testable import Queue

/// What ingest stores is what the worker gets back: the envelope's one text form in Redis.
struct EnvelopeCodingTests {
    /// Addresses the command parser accepts, including the awkward ones (RFC 5321 §4.1.2
    /// quoted local parts, address literals, RFC 6531 UTF-8).
    static let mailboxes: [Mailbox] = [
        "plain@example.com", "First.Last+tag@Example.COM.", "\"a b\"@example.net", "\"a@b\"@example.net",
        "\"quote\\\"d\"@example.net", "user@[192.0.2.1]", "user@[IPv6:2001:db8::1]", "ユーザー@例え.jp", "x@xn--r8jz45g.jp",
    ]

    @Test(arguments: mailboxes)
    func aRecipientComesBackAsItWent(_ mailbox: Mailbox) throws {
        let back = try #require(EnvelopeCoding.recipients(field: EnvelopeCoding.field([mailbox])))
        #expect(back == [mailbox])
        #expect(EnvelopeCoding.sender(field: EnvelopeCoding.field(.mailbox(mailbox))) == .mailbox(mailbox))
    }

    @Test func severalRecipientsAndTheNullSender() throws {
        #expect(EnvelopeCoding.recipients(field: EnvelopeCoding.field(Self.mailboxes)) == Self.mailboxes)
        #expect(EnvelopeCoding.field(ReversePath.null) == "")
        #expect(EnvelopeCoding.sender(field: "") == .null)
    }

    @Test func whatThisRelayDidNotWriteIsRefusedNotGuessed() {
        #expect(EnvelopeCoding.recipients(field: "ok@example.com\nno-at-sign") == nil)
        #expect(EnvelopeCoding.sender(field: "a b@example.com") == nil)
    }

    @Test func theDestinationIsTheNormalisedDomain() {
        let mailbox: Mailbox = "A@Mail.Example.COM."
        #expect(mailbox.destination == "mail.example.com")
    }

    /// Every wait reason hk_claim can give is one the worker knows (an unknown one would
    /// make every claim of the destination fail as a malformed reply).
    @Test func everyWaitReasonOfTheClaimFunctionIsKnown() throws {
        let pattern =
            /(?:wait|note)\(.*, '([a-z_]+)'\)|\{'', [^,]*, '([a-z_]+)'\}|best_reason = nil, '([a-z_]+)'|return nil, [^\n]*, '([a-z_]+)', unusable/
        let found = Set(LuaLibraries.hikyaku.matches(of: pattern).map { String($0.1 ?? $0.2 ?? $0.3 ?? $0.4 ?? "") })
        #expect(found.count >= 8)
        for reason in found { #expect(ClaimWaitReason(rawValue: reason) != nil, "hk_claim's reason '\(reason)'") }
        #expect(Set(ClaimWaitReason.allCases.map(\.rawValue)) == found, "no case the function never gives")
    }
}
