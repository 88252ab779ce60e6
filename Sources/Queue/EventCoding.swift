import Foundation
import NIOCore
import RelayCore

/// JSON encoding of events (one compact object, stable key order).
public enum EventCoding {
    public static func encode(_ event: DeliveryEvent) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(event)) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    public static func decode(_ bytes: ByteBuffer) throws -> DeliveryEvent {
        try JSONDecoder().decode(DeliveryEvent.self, from: Data(bytes.readableBytesView))
    }
}
