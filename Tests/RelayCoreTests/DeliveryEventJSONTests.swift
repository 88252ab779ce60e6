import Foundation
import RelayCore
import Testing

struct DeliveryEventJSONTests {
    static func sample() -> DeliveryEvent {
        var event = DeliveryEvent(
            event: .deferred, time: "2026-11-29T01:02:03.456Z", queueID: "01ABC",
            messageID: "<a\"b\\c@x>", sender: "app@example.com")
        event.recipient = "ü@example.net"
        event.recipients = ["a@x", "b\n@y"]
        event.domain = "example.net"
        event.remoteHost = "mx.example.net"
        event.remoteIP = "192.0.2.1"
        event.reply = "451 4.7.1 Try\tlater \u{1}"
        event.attempt = 3
        event.acceptedAt = "2026-11-29T01:00:00.000Z"
        event.nextAttemptAt = "2026-11-29T01:10:00.000Z"
        event.size = 1234
        event.clientIP = "127.0.0.1"
        event.authUser = "app"
        event.account = "acme"
        event.node = "host/1"
        event.site = "gmail"
        event.egressIP = "127.0.0.11"
        event.action = "slow"
        event.rule = "throttle"
        event.factor = 0.5
        event.until = "2026-11-29T02:00:00.000Z"
        event.tags = ["invoice", "十二月"]
        event.metadata = ["order": "A-1", "customer": "c\"7"]
        event.bounceClass = .throttled
        event.bounceType = .soft
        event.async = false
        return event
    }

    @Test func handWrittenJSONEqualsFoundationsSortedKeyEncoding() throws {
        let event = Self.sample()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let foundation = try JSONSerialization.jsonObject(with: encoder.encode(event)) as! NSDictionary
        let ours = try JSONSerialization.jsonObject(with: Data(event.jsonBytes())) as! NSDictionary
        #expect(ours == foundation)
        // Key order is alphabetical, so output is stable for diffing and tests.
        let text = String(decoding: event.jsonBytes(), as: UTF8.self)
        #expect(text.hasPrefix("{\"accepted_at\":"))
        #expect(text.hasSuffix("\"until\":\"2026-11-29T02:00:00.000Z\"}"))
    }

    @Test func roundTripsThroughTheDecoder() throws {
        let event = Self.sample()
        let decoded = try JSONDecoder().decode(DeliveryEvent.self, from: Data(event.jsonBytes()))
        #expect(decoded == event)
    }

    @Test func absentFieldsAreLeftOut() {
        let event = DeliveryEvent(event: .accepted, time: "t", queueID: "q", messageID: nil, sender: "")
        #expect(String(decoding: event.jsonBytes(), as: UTF8.self) == #"{"event":"accepted","queue_id":"q","sender":"","time":"t"}"#)
    }
}
