/// What `QueueAdmin.retryNow` did.
public struct RetryNowResult: Sendable, Hashable {
    /// Deferred work items moved back into their streams.
    public var items: Int
    /// Recipients in those items.
    public var recipients: Int
    /// Destinations whose ready time was brought forward to now.
    public var destinationsMadeDue: Int

    public init(items: Int = 0, recipients: Int = 0, destinationsMadeDue: Int = 0) {
        self.items = items
        self.recipients = recipients
        self.destinationsMadeDue = destinationsMadeDue
    }
}
