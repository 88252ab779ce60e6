import NIOCore
import RelayCore

/// JSON encoding of events (one compact object, stable key order; see `DeliveryEvent.jsonBytes`).
public enum EventCoding {
    public static func encode(_ event: DeliveryEvent) -> ByteBuffer {
        ByteBuffer(bytes: event.jsonBytes())
    }

    /// Reads the buffer's readable bytes in place (see `DeliveryEvent.init(jsonBytes:)`).
    public static func decode(_ bytes: ByteBuffer) throws -> DeliveryEvent {
        try bytes.withUnsafeReadableBytes { try DeliveryEvent(jsonBytes: $0) }
    }
}
