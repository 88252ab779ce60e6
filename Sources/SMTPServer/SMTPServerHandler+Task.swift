import EventLoopExecution
import NIOCore

extension SMTPServerHandler {
    /// Runs `operation` as a task on this channel's event loop (``EventLoopTaskExecutor``);
    /// its result completes the returned future there.
    public func task<T: Sendable>(_ operation: @Sendable @escaping () async throws -> T) -> EventLoopFuture<T> {
        let promise = self.eventLoop.makePromise(of: T.self)
        Task(executorPreference: EventLoopTaskExecutor.of(self.eventLoop)) {
            do { promise.succeed(try await operation()) } catch { promise.fail(error) }
        }
        return promise.futureResult
    }
}
