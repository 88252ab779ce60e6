/// What `QueueAdmin.resume` did.
public struct ResumeResult: Sendable, Hashable {
    /// False when there was no such suspension (nothing was written).
    public var wasSuspended: Bool
    /// How long the suspension still had to run (nil: none, or no expiry).
    public var remainingMilliseconds: Int64?
    /// Destinations that were waiting out the suspension and are due again now.
    public var destinationsMadeDue: Int

    public init(wasSuspended: Bool, remainingMilliseconds: Int64?, destinationsMadeDue: Int) {
        self.wasSuspended = wasSuspended
        self.remainingMilliseconds = remainingMilliseconds
        self.destinationsMadeDue = destinationsMadeDue
    }
}
