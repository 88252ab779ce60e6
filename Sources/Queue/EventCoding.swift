import NIOCore
import RedisClient
import RelayCore

/// JSON encoding of events (one compact object, stable key order; see `DeliveryEvent.jsonBytes`).
public enum EventCoding {
    public static func encode(_ event: DeliveryEvent) -> ByteBuffer {
        ByteBuffer(bytes: event.jsonBytes())
    }

    /// `XADD <events> MAXLEN ~ <events.max_length> * e <event>`: how every event that no
    /// function writes joins the events stream (`configuration`: its key and bound).
    static func add(_ encoded: ByteBuffer, to configuration: QueueConfiguration) -> RedisCommand {
        RedisCommand(
            "XADD",
            [.string(configuration.keys.events), "MAXLEN", "~", .integer(Int64(configuration.eventsMaxLength)), "*", "e", .bytes(encoded)])
    }

    /// Reads the buffer's readable bytes in place (see `DeliveryEvent.init(jsonBytes:)`).
    public static func decode(_ bytes: ByteBuffer) throws -> DeliveryEvent {
        try bytes.withUnsafeReadableBytes { try DeliveryEvent(jsonBytes: $0) }
    }
}
