import RedisClient
import RelayCore

extension SuppressionStore {
    /// How an unsubscribe came in, for the event's `reply` and the entry's `source`.
    public enum UnsubscribeChannel: String, Sendable {
        /// `POST /u/<token>` (RFC 8058 one-click, or the confirmation page's button).
        case link
        /// A message to `u-<token>@<unsubscribe_mailto_domain>` (RFC 2369 mailto).
        case mailto

        var reply: String {
            switch self {
            case .link: "unsubscribed with the one-click link (RFC 8058)"
            case .mailto: "unsubscribed by mail to the List-Unsubscribe address (RFC 2369)"
            }
        }
    }

    /// Records that `recipient` unsubscribed from `account`'s mail (README "One-click
    /// unsubscribe"): an `unsubscribe` entry on the account's list (expiring after
    /// `suppression.expiry.unsubscribe`, if set) and an `unsubscribed` event carrying the
    /// campaign in `metadata["campaign"]` — atomically (`hks_unsubscribe`) and once: while
    /// the address is already unsubscribed, a repeat writes nothing. Returns whether it wrote.
    @discardableResult
    public func unsubscribe(
        account: String, recipient: String, campaign: String?, via channel: UnsubscribeChannel, node: String,
        settings: SuppressionSettings
    ) async throws(QueueError) -> Bool {
        let now = WallClock.nowMilliseconds()
        let time = WallClock.iso8601(milliseconds: now)
        var event = DeliveryEvent(event: .unsubscribed, time: time, queueID: "", messageID: nil, sender: "")
        event.recipient = recipient
        event.account = account
        if let at = recipient.lastIndex(of: "@") {
            event.domain = DomainName(normalizing: String(recipient[recipient.index(after: at)...]))
        }
        event.reply = channel.reply
        event.node = node
        if let campaign { event.metadata = ["campaign": campaign] }
        let entry = SuppressionEntry(
            address: recipient, reason: .unsubscribe, createdAt: time, source: campaign.map { "campaign:\($0)" } ?? channel.rawValue,
            expiresAt: settings.expiry(for: .unsubscribe, now: now).map { WallClock.iso8601(milliseconds: $0) })
        let scope = SuppressionScope.account(account)
        let keys = configuration.keys
        let reply = try await redis.adminCall(
            "hks_unsubscribe",
            keys: [keys.suppression(scope), keys.suppressionExpiry(scope), keys.suppressionLists, keys.events],
            [
                .string(scope.listName), .string(entry.address), .string(entry.json()),
                entry.expiresAtMilliseconds.map { RESPArgument.integer($0) } ?? RESPArgument.string(""),
                .integer(Int64(configuration.eventsMaxLength)), .bytes(EventCoding.encode(event)),
            ])
        if case .error(let text) = reply { throw .rejected(text) }
        return reply.int == 1
    }
}
