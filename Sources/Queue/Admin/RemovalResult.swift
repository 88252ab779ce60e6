/// What `QueueAdmin.remove` (bounce or purge) did to a destination's queue.
public struct RemovalResult: Sendable, Hashable {
    /// Stream entries (one message's recipients at the domain) removed.
    public var queuedEntries = 0
    public var queuedRecipients = 0
    /// Deferred work items removed.
    public var deferredItems = 0
    public var deferredRecipients = 0
    /// Entries a worker holds right now: left alone (run the command again later).
    public var claimedEntries = 0
    public var claimedRecipients = 0
    /// Messages deleted (with their bodies) because these were their last recipients.
    public var messagesDeleted = 0

    /// Recipients that got a final event.
    public var recipients: Int { queuedRecipients + deferredRecipients }

    public init() {}
}
