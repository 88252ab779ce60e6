import Logging
import Queue
import RelayCore

/// Puts the address of a hard `invalid_recipient` bounce on its account's suppression list
/// (reason `hard_bounce`), so the next message to it is refused at `RCPT` instead of
/// bouncing again and raising the account's bounce rate. Only a dead address is
/// suppressed: blocks (`ip_reputation`, `content_block`, `policy_authentication`) are the
/// sending IP's or the content's problem, and soft failures may pass. Mail without an
/// account (allow-listed relay) has no list of its own and is left alone; the global list
/// is the operator's. The bounce listener does the same for asynchronous bounces.
struct BounceSuppressor: Sendable {
    let store: SuppressionStore
    /// `suppression.expiry.hard_bounce`, applied to the entries added here.
    let settings: SuppressionSettings
    let logger: Logger

    /// Whether `event` adds a suppression.
    static func applies(to event: DeliveryEvent) -> Bool {
        event.event == .bounced && event.bounceClass == .invalidRecipient && event.bounceType == .hard && event.account != nil
            && event.recipient != nil
    }

    /// The entries `events` add, per account.
    static func entries(for events: [DeliveryEvent], settings: SuppressionSettings, now: Int64) -> [String: [SuppressionEntry]] {
        var out: [String: [SuppressionEntry]] = [:]
        for event in events where applies(to: event) {
            guard let account = event.account, let recipient = event.recipient else { continue }
            out[account, default: []].append(
                SuppressionEntry(
                    address: recipient, reason: .hardBounce, createdAt: WallClock.iso8601(milliseconds: now), source: event.queueID,
                    expiresAt: settings.expiry(for: .hardBounce, now: now).map { WallClock.iso8601(milliseconds: $0) }))
        }
        return out
    }

    func suppress(_ events: [DeliveryEvent]) async {
        for (account, entries) in Self.entries(for: events, settings: settings, now: WallClock.nowMilliseconds()) {
            do {
                try await store.add(entries, to: .account(account))
                logger.info("suppressed \(entries.count) address(es) after hard bounces", metadata: ["account": "\(account)"])
            } catch {
                logger.warning(
                    "could not add \(entries.count) hard-bounced address(es) to the suppression list: \(error)",
                    metadata: ["account": "\(account)"])
            }
        }
    }
}
