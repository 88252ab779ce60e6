import NIOCore
import SMTPProtocol
import Testing

@testable import hikyaku_sim

@Suite struct SitePolicyTests {
    static func at(seconds: Double) -> NIODeadline {
        .uptimeNanoseconds(UInt64((1000 + seconds) * 1e9))
    }

    static let rateReply = SMTPReply(421, "4.7.28", "rate limited")
    static let blockReply = SMTPReply(550, "5.7.1", "blocked")

    static func policy(_ configure: (inout SiteBehaviours) -> Void) -> SitePolicy {
        var behaviours = SiteBehaviours()
        configure(&behaviours)
        return SitePolicy(behaviours: behaviours)
    }

    @Test func emptyBehavioursAcceptEverything() {
        var policy = Self.policy { _ in }
        for index in 0..<1000 {
            let decision = policy.decide(
                recipient: "u\(index)@a.sim", sender: "", client: "127.0.0.1", transactionCounted: false, now: Self.at(seconds: 0))
            #expect(decision == .accept)
        }
    }

    @Test func patternsRefuseUnknownUsersBeforeFullMailboxes() {
        var policy = Self.policy {
            $0.unknownUsers = AddressRule(pattern: AddressPattern("^nouser")!, reply: SMTPReply(550, "5.1.1", "No such user"))
            $0.mailboxFull = AddressRule(pattern: AddressPattern("^(full|nouser)")!, reply: SMTPReply(452, "4.2.2", "Mailbox full"))
        }
        func decide(_ recipient: String) -> RecipientDecision {
            policy.decide(
                recipient: recipient, sender: "s@x.test", client: "127.0.0.1", transactionCounted: false, now: Self.at(seconds: 0))
        }
        #expect(decide("nouser7@a.sim") == .refuse(SMTPReply(550, "5.1.1", "No such user"), .unknownUser))
        #expect(decide("full@a.sim") == .refuse(SMTPReply(452, "4.2.2", "Mailbox full"), .mailboxFull))
        #expect(decide("user.nouser@a.sim") == .accept)
    }

    @Test func rateCountsTransactionsPerClientInASlidingWindow() {
        var policy = Self.policy { $0.perIPRate = RateLimitRule(count: 2, periodSeconds: 60, reply: Self.rateReply) }
        func decide(_ client: String, counted: Bool = false, at seconds: Double) -> RecipientDecision {
            policy.decide(
                recipient: "a@b.sim", sender: "s@x.test", client: client, transactionCounted: counted, now: Self.at(seconds: seconds))
        }
        #expect(decide("10.0.0.1", at: 0) == .accept)
        // Further recipients of a counted transaction are not counted again.
        #expect(decide("10.0.0.1", counted: true, at: 0) == .accept)
        #expect(decide("10.0.0.1", at: 1) == .accept)
        #expect(decide("10.0.0.1", at: 2) == .refuse(Self.rateReply, .rateLimit))
        #expect(decide("10.0.0.1", counted: true, at: 2) == .accept)
        #expect(decide("10.0.0.2", at: 2) == .accept)
        #expect(decide("10.0.0.1", at: 59.9) == .refuse(Self.rateReply, .rateLimit))
        #expect(decide("10.0.0.1", at: 60) == .accept)
    }

    @Test func excessWithinOnePeriodBlocksTheClientForBlockSeconds() {
        var policy = Self.policy {
            $0.perIPRate = RateLimitRule(count: 1, periodSeconds: 10, reply: Self.rateReply)
            $0.blockAfterExcess = BlockRule(excess: 3, blockSeconds: 100, reply: Self.blockReply)
        }
        func decide(_ client: String = "10.0.0.1", at seconds: Double) -> RecipientDecision {
            policy.decide(
                recipient: "a@b.sim", sender: "s@x.test", client: client, transactionCounted: false, now: Self.at(seconds: seconds))
        }
        #expect(decide(at: 0) == .accept)
        #expect(decide(at: 1) == .refuse(Self.rateReply, .rateLimit))
        #expect(decide(at: 2) == .refuse(Self.rateReply, .rateLimit))
        // Excess spread over more than one period does not block.
        #expect(decide(at: 11.5) == .accept)
        #expect(decide(at: 12) == .refuse(Self.rateReply, .rateLimit))
        #expect(decide(at: 13) == .refuse(Self.rateReply, .rateLimit))
        #expect(decide(at: 14) == .refuse(Self.rateReply, .rateLimit))
        #expect(decide(at: 15) == .refuse(Self.blockReply, .blocked))
        #expect(decide("10.0.0.2", at: 15) == .accept)
        #expect(decide(at: 113.9) == .refuse(Self.blockReply, .blocked))
        #expect(decide(at: 114) == .accept)
    }

    @Test func greylistingPassesATripleRetriedAfterMinRetryAndRemembersIt() {
        let reply = SMTPReply(451, "4.7.1", "Greylisted")
        var policy = Self.policy { $0.greylist = GreylistRule(firstAttemptReply: reply, minRetrySeconds: 300) }
        func decide(
            _ recipient: String = "a@b.sim", sender: String = "s@x.test", client: String = "10.0.0.1", at seconds: Double
        ) -> RecipientDecision {
            policy.decide(recipient: recipient, sender: sender, client: client, transactionCounted: false, now: Self.at(seconds: seconds))
        }
        #expect(decide(at: 0) == .refuse(reply, .greylisted))
        #expect(decide(at: 299) == .refuse(reply, .greylisted))
        #expect(decide(at: 300) == .accept)
        #expect(decide(at: 301) == .accept)
        // Case does not make a new triple; another sender, recipient or client does.
        #expect(decide("A@B.SIM", sender: "S@X.TEST", at: 302) == .accept)
        #expect(decide(sender: "t@x.test", at: 302) == .refuse(reply, .greylisted))
        #expect(decide("c@b.sim", at: 302) == .refuse(reply, .greylisted))
        #expect(decide(client: "10.0.0.2", at: 302) == .refuse(reply, .greylisted))
    }

    @Test func blockedClientsAreRefusedBeforeAnyOtherCheck() {
        var policy = Self.policy {
            $0.perIPRate = RateLimitRule(count: 1, periodSeconds: 10, reply: Self.rateReply)
            $0.blockAfterExcess = BlockRule(excess: 1, blockSeconds: 100, reply: Self.blockReply)
            $0.unknownUsers = AddressRule(pattern: AddressPattern("^nouser")!, reply: SMTPReply(550, "5.1.1", "No such user"))
        }
        _ = policy.decide(recipient: "a@b.sim", sender: "", client: "10.0.0.1", transactionCounted: false, now: Self.at(seconds: 0))
        let excess = policy.decide(
            recipient: "a@b.sim", sender: "", client: "10.0.0.1", transactionCounted: false, now: Self.at(seconds: 1))
        #expect(excess == .refuse(Self.rateReply, .rateLimit))
        let unknown = policy.decide(
            recipient: "nouser@b.sim", sender: "", client: "10.0.0.1", transactionCounted: false, now: Self.at(seconds: 2))
        #expect(unknown == .refuse(Self.blockReply, .blocked))
    }
}
