import NIOCore
import Synchronization

/// Runs a Swift task's jobs on one NIO event loop (a `TaskExecutor`, SE-0417), so that an
/// SMTP session's asynchronous work — a Redis lookup, the enqueue — starts, suspends and
/// resumes on the thread that owns its channel. With Redis connections kept per event loop
/// (`RedisConnectionPool`) the command is written, its reply read and the session answered
/// on that one thread: no hand-off to Swift's global thread pool and back, which cost about
/// six thread switches per message.
///
/// Only sessions use it: delivery workers and other services keep the global pool, so a
/// long batch never holds up the event loops' socket I/O.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    public let eventLoop: any EventLoop

    private init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedTaskExecutor()
        // From the loop's own thread this only queues the job: no wake-up.
        self.eventLoop.execute { job.runSynchronously(on: executor) }
    }

    private static let executors = Mutex<[ObjectIdentifier: EventLoopTaskExecutor]>([:])

    /// The executor of `eventLoop` (one per loop, kept for the life of the process).
    public static func of(_ eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        executors.withLock { executors in
            if let found = executors[ObjectIdentifier(eventLoop)] { return found }
            let made = EventLoopTaskExecutor(eventLoop: eventLoop)
            executors[ObjectIdentifier(eventLoop)] = made
            return made
        }
    }
}

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
