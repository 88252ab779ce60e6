/// What one site has answered so far, for the stats line.
struct SiteCounters: Hashable, Sendable {
    /// Messages answered `250` after the end of data.
    var acceptedMessages = 0
    /// Recipients of those messages.
    var acceptedRecipients = 0
    /// Refused recipients by reason (a dropped message counts each of its recipients).
    var refused: [RefusalReason: Int] = [:]

    var refusedTotal: Int {
        self.refused.values.reduce(0, +)
    }

    /// `accepted=12 recipients=14 refused=3 (rate_limit=2 unknown_user=1)`.
    var summary: String {
        var text = "accepted=\(self.acceptedMessages) recipients=\(self.acceptedRecipients) refused=\(self.refusedTotal)"
        let reasons = RefusalReason.allCases.compactMap { reason in
            self.refused[reason].map { "\(reason.rawValue)=\($0)" }
        }
        if !reasons.isEmpty {
            text += " (\(reasons.joined(separator: " ")))"
        }
        return text
    }
}
