import HikyakuMetrics
import Queue
import RelayCore
import SMTPProtocol

/// What became of one submission, in the terms of every transport that submits: the
/// SMTP reply to the final dot, and the HTTP status an API answers with.
///
/// ```
/// queued                    250 2.0.0 Ok: queued as 01JDQ3T6Z8F0M4X2KP        202
/// refused(.mailLoop)        554 5.4.6 Mail loop: …                           422
/// refused(.fromDomain)      550 5.7.1 From: header domain … / 550 5.6.0 …   403 / 422
/// refused(.unsignable)      550 5.6.0 Message header cannot be DKIM-signed   422
/// refused(.quota)           451 4.7.0 The hourly quota of …                  429
/// refused(.suppressed)      550 5.1.1 all recipients are suppressed          422
/// refused(.queueUnavailable) 451 4.3.0 Requested action aborted: …          503
/// ```
public struct IntakeResult: Sendable {
    public enum Outcome: Sendable, Hashable {
        /// Durably stored (and replicated, if configured): the promise `250` makes.
        case queued
        /// Not stored; nothing of it is left behind.
        case refused(MetricNames.RefusalReason)
        /// Checked, rendered and signed but not stored, as asked (the API's `sandbox`).
        case sandboxed
    }

    public var queueID: QueueID
    public var outcome: Outcome
    /// The SMTP reply to the final dot (RFC 5321 §4.2.5).
    public var reply: SMTPReply
    /// When trying again may succeed (a quota), in seconds: the API's `Retry-After`.
    public var retryAfterSeconds: Int?
    /// Recipients the enqueue dropped because they are suppressed (queued: the others were
    /// stored), each with a `suppressed` event.
    public var suppressed: [SuppressedRecipient] = []

    static func queued(_ id: QueueID) -> IntakeResult {
        IntakeResult(queueID: id, outcome: .queued, reply: SMTPReply(250, "2.0.0", "Ok: queued as \(id.rawValue)"))
    }

    static func refused(_ id: QueueID, _ reason: MetricNames.RefusalReason, _ reply: SMTPReply) -> IntakeResult {
        IntakeResult(queueID: id, outcome: .refused(reason), reply: reply)
    }

    static func sandboxed(_ id: QueueID) -> IntakeResult {
        IntakeResult(queueID: id, outcome: .sandboxed, reply: SMTPReply(250, "2.0.0", "Ok: checked and signed, not queued (sandbox)"))
    }

    /// What ``SMTPServerStateMachine/messageQueued(_:)`` is told.
    public var queueResult: QueueResult {
        switch self.outcome {
        case .queued, .sandboxed: .queued(self.queueID.rawValue)
        case .refused: .failed(self.reply)
        }
    }

    /// The HTTP status of the same outcome (RFC 9110 §15): temporary SMTP failures map to
    /// 429 (a quota: retry later) or 503, permanent ones to 403 (not allowed) or 422.
    public var httpStatus: Int {
        switch self.outcome {
        case .queued, .sandboxed: 202
        case .refused(.quota): 429
        case .refused(.tooLarge): 413
        case .refused(let reason) where self.reply.code < 500: reason == .queueUnavailable ? 503 : 429
        case .refused: self.reply.enhancedStatus?.description.hasPrefix("5.7.") == true ? 403 : 422
        }
    }
}
