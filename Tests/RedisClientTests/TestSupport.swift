import Foundation
import HikyakuTestSupport
import Logging
import NIOCore
import NIOPosix
import RedisClient

/// Log lines captured by ``Logger.recording(_:)``.
final class LogRecorder: @unchecked Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let lock = NSLock()
    private var storage: [Entry] = []

    var entries: [Entry] {
        lock.withLock { storage }
    }

    func append(_ entry: Entry) {
        lock.withLock { storage.append(entry) }
    }

    func contains(level: Logger.Level, _ text: String) -> Bool {
        entries.contains { $0.level == level && $0.message.contains(text) }
    }
}

private struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        recorder.append(.init(level: event.level, message: event.message.description))
    }
}

extension Logger {
    /// A logger whose lines go to `recorder` instead of stderr.
    static func recording(_ recorder: LogRecorder) -> Logger {
        Logger(label: "redis-test") { _ in RecordingLogHandler(recorder: recorder) }
    }

    /// A logger that drops everything (keeps test output quiet).
    static var quiet: Logger {
        Logger(label: "redis-test") { _ in SwiftLogNoOpLogHandler() }
    }
}

enum TestSupport {
    static var group: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    static func connect(
        _ server: RedisServerProcess,
        commandTimeout: Duration? = .seconds(30)
    ) async throws -> RedisConnection {
        try await RedisConnection.connect(
            to: RedisEndpoint(url: server.url),
            eventLoop: group.next(),
            logger: .quiet,
            commandTimeout: commandTimeout
        )
    }

    /// Polls `condition` every 10 ms, up to ~10 s; returns whether it became true.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<1000 {
            if try await condition() {
                return true
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// The value of `field` in `INFO section` (e.g. `blocked_clients`).
    static func info(_ connection: RedisConnection, section: String, field: String) async throws -> Int? {
        let reply = try await connection.send(RedisCommand("INFO", .string(section)))
        guard let text = reply.string else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("\(field):") {
            return Int(line.dropFirst(field.count + 1))
        }
        return nil
    }

    /// Waits until `count` clients are blocked (in BLPOP) on the server.
    static func waitForBlockedClients(_ count: Int, observer: RedisConnection) async throws -> Bool {
        try await eventually {
            try await info(observer, section: "clients", field: "blocked_clients") == count
        }
    }

    /// Deterministic pseudo-random bytes (all 256 values occur).
    static func bytes(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count)
        var state = seed
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            for index in 0..<count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                raw[index] = UInt8(truncatingIfNeeded: state >> 56)
            }
            return count
        }
        return buffer
    }
}
