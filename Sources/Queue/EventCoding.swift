import Foundation
import NIOCore
import RelayCore

/// JSON encoding of events (one compact object, stable key order; see `DeliveryEvent.jsonBytes`).
public enum EventCoding {
    public static func encode(_ event: DeliveryEvent) -> ByteBuffer {
        ByteBuffer(bytes: event.jsonBytes())
    }

    public static func decode(_ bytes: ByteBuffer) throws -> DeliveryEvent {
        try JSONDecoder().decode(DeliveryEvent.self, from: Data(bytes.readableBytesView))
    }
}
