import NIOCore
import SMTPProtocol

/// The behaviours of one site applied to recipients, with the state they need: per client
/// IP a rate window, an excess window and a block; greylisting triples. A pure value: time
/// comes in as an argument (so tests need no sleeping); the server keeps one per site
/// behind a lock.
///
/// ```
/// C: RCPT TO:<nouser1@gmail.sim>   S: 550 5.1.1 No such user        (unknown_users)
/// C: RCPT TO:<full2@gmail.sim>     S: 452 4.2.2 Mailbox full        (mailbox_full)
/// C: RCPT TO:<new@gmail.sim>       S: 451 4.7.1 Greylisted          (greylist, first attempt)
/// C: RCPT TO:<b@gmail.sim>         S: 421 4.7.28 rate limited       (per_ip_rate exceeded)
/// C: RCPT TO:<b@gmail.sim>         S: 550 5.7.1 blocked             (after block_after_excess)
/// ```
struct SitePolicy: Sendable {
    let behaviours: SiteBehaviours
    private var clients: [String: ClientState] = [:]
    private var greylist: [GreylistTriple: GreylistEntry] = [:]

    private struct ClientState: Sendable {
        var messages: SlidingWindow
        var excess: SlidingWindow?
        var blockedUntil: NIODeadline?
    }

    private struct GreylistTriple: Hashable, Sendable {
        var client: String
        var sender: String
        var recipient: String
    }

    private enum GreylistEntry: Sendable {
        case firstSeen(NIODeadline)
        case passed
    }

    init(behaviours: SiteBehaviours) {
        self.behaviours = behaviours
    }

    /// Decides on `recipient` (`local-part@domain`) from `client`, in a transaction from
    /// `sender` (`""` for the null reverse-path). `transactionCounted` says whether the
    /// transaction already holds its place in the client's rate window.
    mutating func decide(
        recipient: String, sender: String, client: String, transactionCounted: Bool, now: NIODeadline
    ) -> RecipientDecision {
        if let block = self.behaviours.blockAfterExcess, let until = self.clients[client]?.blockedUntil {
            if now < until {
                return .refuse(block.reply, .blocked)
            }
            self.clients[client]?.blockedUntil = nil
        }
        if let rule = self.behaviours.unknownUsers, rule.pattern.matches(recipient) {
            return .refuse(rule.reply, .unknownUser)
        }
        if let rule = self.behaviours.mailboxFull, rule.pattern.matches(recipient) {
            return .refuse(rule.reply, .mailboxFull)
        }
        if let rule = self.behaviours.greylist,
            !self.passGreylist(
                GreylistTriple(client: client, sender: sender.lowercased(), recipient: recipient.lowercased()),
                minRetry: rule.minRetrySeconds, now: now)
        {
            return .refuse(rule.firstAttemptReply, .greylisted)
        }
        if let rate = self.behaviours.perIPRate, !transactionCounted, !self.admitMessage(from: client, rate: rate, now: now) {
            return .refuse(rate.reply, .rateLimit)
        }
        return .accept
    }

    /// Counts a message in the client's window, or counts an excess (and maybe starts a block).
    private mutating func admitMessage(from client: String, rate: RateLimitRule, now: NIODeadline) -> Bool {
        let period = TimeAmount.nanoseconds(Int64(rate.periodSeconds * 1e9))
        var state =
            self.clients[client]
            ?? ClientState(
                messages: SlidingWindow(limit: rate.count, period: period),
                excess: self.behaviours.blockAfterExcess.map { SlidingWindow(limit: $0.excess, period: period) })
        defer { self.clients[client] = state }
        if state.messages.admit(at: now) {
            return true
        }
        if let block = self.behaviours.blockAfterExcess, state.excess?.add(at: now) == block.excess {
            state.blockedUntil = now + .nanoseconds(Int64(block.blockSeconds * 1e9))
            state.excess?.reset()
        }
        return false
    }

    /// Whether the triple may pass: seen at least `minRetry` seconds ago, or passed before.
    private mutating func passGreylist(_ triple: GreylistTriple, minRetry: Double, now: NIODeadline) -> Bool {
        switch self.greylist[triple] {
        case .passed:
            return true
        case .firstSeen(let first) where now - first >= .nanoseconds(Int64(minRetry * 1e9)):
            self.greylist[triple] = .passed
            return true
        case .firstSeen:
            return false
        case nil:
            self.greylist[triple] = .firstSeen(now)
            return false
        }
    }
}
