import NIOCore
import RedisClient
import RelayCore

/// What the bounce listener reads and writes in Redis: the recipient index a VERP token
/// points into, the `bounced` and `complaint` events of inbound reports, and the
/// complaint count that can pause an account (`hkb_complaint`).
public struct InboundReportStore: Sendable {
    let redis: RedisClient
    let configuration: QueueConfiguration
    var keys: QueueKeys { configuration.keys }

    public init(redis: RedisClient, configuration: QueueConfiguration = .init()) {
        self.redis = redis
        self.configuration = configuration
    }

    /// The message a token names, as kept at enqueue (and for `bounces.window` after its
    /// last recipient was final); nil once it is gone.
    public func recipientIndex(of queueID: QueueID) async throws(QueueError) -> RecipientIndex? {
        let reply: RESPValue
        do {
            reply = try await redis.send(
                RedisCommand("HMGET", [.string(keys.recipientIndex(queueID)), "a", "s", "m", "r"]))
        } catch { throw MessageQueue.queueError(error) }
        let values = reply.array ?? []
        guard values.count == 4, let recipients = values[3].string else { return nil }
        return RecipientIndex(
            queueID: queueID, account: values[0].string.flatMap { $0.isEmpty ? nil : $0 },
            sender: values[1].string ?? "", messageID: values[2].string.flatMap { $0.isEmpty ? nil : $0 },
            recipients: recipients.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    /// Appends events (an asynchronous `bounced`, …) to the events stream.
    public func record(_ events: [DeliveryEvent]) async throws(QueueError) {
        guard !events.isEmpty else { return }
        let commands = events.map { EventCoding.add(EventCoding.encode($0), to: configuration) }
        do { _ = try await redis.pipeline(commands) } catch { throw MessageQueue.queueError(error) }
    }

    /// What recording a complaint did.
    public enum ComplaintOutcome: Sendable, Equatable {
        case counted
        /// Counted, and the account's complaint rate went over
        /// `accounts.complaint_rate_threshold`: it is now paused (with a `paused` event).
        case paused
        /// This message and recipient had a complaint counted already: nothing written.
        case repeated
    }

    /// Writes a `complaint` event and counts it against its account, once per message and
    /// recipient (for `seenFor`, e.g. `bounces.window`).
    @discardableResult
    public func recordComplaint(_ event: DeliveryEvent, seenFor: Duration) async throws(QueueError) -> ComplaintOutcome {
        let guardrail = configuration.complaintGuard
        let account = event.account ?? ""
        let keys = self.keys
        let command = MessageQueue.fcall(
            "hkb_complaint",
            keys: [
                keys.events, keys.accountPaused(account), keys.accountsVersion,
                keys.complaintSeen(QueueID(rawValue: event.queueID), event.recipient),
            ],
            [
                .integer(Int64(configuration.eventsMaxLength)), .bytes(EventCoding.encode(event)), .string(account),
                .integer(Int64((guardrail.threshold * 1_000_000).rounded())), .integer(Int64(guardrail.minimumDeliveries)),
                .integer(Int64(guardrail.windowHours)), .string(keys.bouncesStem(account: account)),
                .bytes(Self.complaintPauseTemplate(guardrail)), .integer(max(1, seenFor.components.seconds)),
            ])
        let reply: RESPValue
        do { reply = try await redis.send(command) } catch { throw MessageQueue.queueError(error) }
        if case .error(let text) = reply { throw .rejected(text) }
        switch reply.int {
        case 1: return .paused
        case -1: return .repeated
        default: return .counted
        }
    }

    /// The `paused` event hkb_complaint writes (`%ACCOUNT%` and `%RATE%` filled in there).
    static func complaintPauseTemplate(_ guardrail: ComplaintGuard) -> ByteBuffer {
        var event = DeliveryEvent(
            event: .paused, time: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()), queueID: "",
            messageID: nil, sender: "")
        event.account = "%ACCOUNT%"
        let hundredths = Int((guardrail.threshold * 10000).rounded())
        let percent = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)%"
        event.reply =
            "spam-complaint rate %RATE% is over the threshold of \(percent); "
            + "sending is paused until an operator runs `hikyaku account resume %ACCOUNT%`"
        return EventCoding.encode(event)
    }
}

/// What a VERP token points at: the message's account, envelope sender, Message-ID and
/// its recipients in index order (`hk:rix:<queue id>`).
public struct RecipientIndex: Sendable, Hashable {
    public var queueID: QueueID
    public var account: String?
    public var sender: String
    public var messageID: String?
    public var recipients: [String]

    public init(queueID: QueueID, account: String?, sender: String, messageID: String?, recipients: [String]) {
        self.queueID = queueID
        self.account = account
        self.sender = sender
        self.messageID = messageID
        self.recipients = recipients
    }

    /// The recipient at `index`, nil when the index is out of range.
    public func recipient(at index: Int) -> String? {
        recipients.indices.contains(index) ? recipients[index] : nil
    }
}
