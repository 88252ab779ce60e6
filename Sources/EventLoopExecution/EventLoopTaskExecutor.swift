import NIOCore
import Synchronization

/// Runs a Swift task's jobs on one NIO event loop (a `TaskExecutor`, SE-0417), so that an
/// SMTP session's asynchronous work — a Redis lookup, the enqueue — starts, suspends and
/// resumes on the thread that owns its channel. With Redis connections kept per event loop
/// (`RedisConnectionPool`) the command is written, its reply read and the session answered
/// on that one thread: no hand-off to Swift's global thread pool and back, which cost about
/// six thread switches per message.
///
/// SMTP sessions (`SMTPServerHandler.task`) and delivery loops (`DeliveryWorker`, each
/// pinned to one loop, where its outbound connections are made too) use it; other services
/// keep Swift's global pool. A delivery loop's work between two awaits is short (a reply
/// parsed, the next command written), so it does not hold up the loop's socket I/O.
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
