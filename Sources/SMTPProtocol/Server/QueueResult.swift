/// The outcome of storing a message, passed to ``SMTPServerStateMachine/messageQueued(_:)``.
public enum QueueResult: Hashable, Sendable {
    /// Durably stored under this queue id (`250 2.0.0 Ok: queued as <id>`).
    case queued(String)
    /// Not stored; this reply is sent (e.g. ``SMTPReply/localError``).
    case failed(SMTPReply)
}
