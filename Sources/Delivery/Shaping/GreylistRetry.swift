import SMTPProtocol

/// Retries that a greylisting receiver can accept. Greylisting (postgrey and its kin)
/// refuses the first attempt of each (client IP, sender, recipient) with a 4xx and accepts
/// a retry of the same triple after a delay — from the same client IP (or /24) only. A
/// retry from another egress IP starts the wait over, so with N egress IPs chosen at random
/// a greylisted message needs about N retries. Hence a recipient deferred by a reply of the
/// server to its transaction is retried from the IP that was refused (the retry is
/// *pinned*; `hk_claim` routes it, see `Sources/Queue/Lua/hikyaku.lua`), and when the
/// reply says how long to wait, that is the wait.
///
/// ```
/// C: RCPT TO:<a@isp.example>   S: 451 4.7.1 Greylisted, please try again in 300 seconds
/// … 300 s later, from the same egress IP …
/// C: RCPT TO:<a@isp.example>   S: 250 2.1.5 Ok
/// ```
enum GreylistRetry {
    /// A retry is pinned while the item has made at most this many attempts: enough for
    /// postgrey's default 300 s under the default schedule (1 min, 5 min: the third attempt
    /// passes), and no longer, so an IP the site refuses for other reasons is left.
    static let maxPinnedAttempts = 4
    /// Bounds on a wait taken from the reply text (a typo or a hostile text must not park
    /// mail for a day, nor make it retry in a busy loop).
    static let minimumSuggestedWait: Int64 = 1_000
    static let maximumSuggestedWait: Int64 = 30 * 60_000

    /// Whether the retry of a recipient with `result` should come from the same egress IP:
    /// a temporary reply of the server inside the transaction (RFC 5321 §4.2.1: 4yz to
    /// MAIL, RCPT or DATA) — not the relay's own failures (no route, connection lost, TLS),
    /// for which another IP is the better choice, and not a reply that `throttles` says is
    /// about the IP's rate (those want another IP too).
    static func pins(_ result: RecipientResult, attempt: Int, throttles: (SMTPReply) -> Bool) -> Bool {
        guard attempt <= maxPinnedAttempts, result.kind == .deferred, let reply = result.remoteReply else { return false }
        // 421: the server is closing the connection (RFC 5321 §3.8), a session-level refusal.
        guard (400..<500).contains(reply.code), reply.code != 421 else { return false }
        return !throttles(reply)
    }

    /// The wait (ms) a temporary reply asks for — `try again in 5 minutes`, `greylisted for
    /// 300 seconds`, `retry after 60s` — bounded; nil when the text names none.
    static func suggestedWait(in text: String) -> Int64? {
        let words = text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        for (index, word) in words.enumerated() where index > 0 && ["in", "for", "after", "wait"].contains(words[index - 1]) {
            // "300 seconds" or "300s"
            let digits = word.prefix { $0.isNumber }
            guard !digits.isEmpty, let value = Int64(digits.prefix(6)) else { continue }
            var unit = String(word.dropFirst(digits.count))
            if unit.isEmpty, index + 1 < words.count { unit = words[index + 1] }
            let scale: Int64
            switch unit {
            case "s", "sec", "secs", "second", "seconds": scale = 1_000
            case "m", "min", "mins", "minute", "minutes": scale = 60_000
            default: continue
            }
            return min(max(value * scale, minimumSuggestedWait), maximumSuggestedWait)
        }
        return nil
    }
}
