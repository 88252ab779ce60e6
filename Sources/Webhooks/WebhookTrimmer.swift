import Logging
import Queue
import RelayCore
import ServiceLifecycle

/// Trims the events stream by acknowledgement: every few seconds, `XTRIM MINID` to the
/// oldest entry some consumer group still needs (its oldest pending entry, or its last
/// delivered one) — but never past `events.retention`, so `hikyaku events tail` and
/// `GET /v1/events` keep recent history. The `MAXLEN ~ events.max_length` of every `XADD`
/// stays the ceiling: a group that falls that far behind loses what it had not read, and
/// ``countCeilingLoss(consumerGroup:)`` logs and counts how much. Without any consumer
/// group, events older than the retention go (as the fixed `MAXLEN` did before).
struct WebhookTrimmer: Sendable {
    let events: EventGroups
    let retention: Duration
    let logger: Logger

    func run(consumerGroup: String) async {
        while !Task.isCancelled {
            do {
                try await trimOnce()
            } catch {
                logger.debug("webhooks: trimming the events stream failed (\(error))")
            }
            try? await Task.sleep(for: .seconds(5))
        }
    }

    func trimOnce() async throws {
        let groups = try await events.groups()
        var floor = StreamID(milliseconds: UInt64(max(0, WallClock.nowMilliseconds() - retention.milliseconds)), sequence: 0)
        for group in groups {
            let needed = try await events.oldestPending(group.name) ?? group.lastDeliveredID
            if let id = StreamID(needed), id < floor { floor = id }
        }
        let trimmed = try await events.trim(before: floor.description)
        if trimmed > 0 { logger.debug("webhooks: trimmed \(trimmed) acknowledged event(s) before \(floor)") }
    }

    /// When the stream's first entry is past `consumerGroup`'s last delivered one, entries it
    /// never read were trimmed by the ceiling: the stream has added `entries-added`, the
    /// group read `entries-read`, and all `length` entries left are unread — the rest are
    /// lost. Logs and counts them, then sets the group's read counter to match (`XGROUP
    /// SETID … ENTRIESREAD`), so the same loss is not counted twice.
    func countCeilingLoss(consumerGroup: String) async {
        do {
            guard let info = try await events.streamInfo(), let firstText = info.firstID, let first = StreamID(firstText),
                let group = try await events.groups().first(where: { $0.name == consumerGroup }),
                let last = StreamID(group.lastDeliveredID), last < first,
                // Redis reports no count for a group made with the stream (MKSTREAM) that has read nothing yet.
                let read = group.entriesRead ?? (group.lastDeliveredID == "0-0" ? 0 : nil)
            else { return }
            let lost = info.entriesAdded - read - info.length
            guard lost > 0 else { return }
            logger.error(
                "webhooks: \(lost) event(s) were trimmed from the events stream before group '\(consumerGroup)' read them (it fell more than events.max_length behind); they are not delivered"
            )
            WebhookMetrics.lost(lost, where: .stream)
            try await events.setReadCounter(
                group: consumerGroup, lastID: group.lastDeliveredID, entriesRead: info.entriesAdded - info.length)
        } catch {
            logger.debug("webhooks: checking the events stream's ceiling failed (\(error))")
        }
    }
}

/// The trimming alone, for hosts that run workers but no dispatcher: whichever roles a
/// deployment runs, the events stream is trimmed by acknowledgement and retention, never
/// left to grow to its ceiling.
public struct EventsTrimmer: Service, CustomStringConvertible {
    let trimmer: WebhookTrimmer
    public var description: String { "EventsTrimmer(retention \(trimmer.retention))" }

    public init(events: EventGroups, settings: EventsSettings, logger: Logger) {
        self.trimmer = WebhookTrimmer(events: events, retention: settings.retention.duration, logger: logger)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await trimmer.run(consumerGroup: WebhookDispatcher.group)
        }
    }
}
