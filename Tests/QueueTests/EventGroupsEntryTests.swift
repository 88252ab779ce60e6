import NIOCore
import RelayCore
import Testing

@testable import Queue

/// An entry read through a consumer group: the byte test readers use before decoding, and
/// the decoding itself.
struct EventGroupsEntryTests {
    static let campaign = Array("\"campaign\"".utf8)

    @Test func mentionsFindsTheTextAnywhereAndOnlyWhole() {
        func entry(_ text: String?) -> EventGroups.Entry {
            EventGroups.Entry(id: "1-0", json: text.map { ByteBuffer(string: $0) })
        }
        #expect(entry(#"{"metadata":{"campaign":"c1"}}"#).mentions(Self.campaign))
        #expect(entry(#""campaign""#).mentions(Self.campaign))
        #expect(entry(#"{"x":"""campaign""#).mentions(Self.campaign))
        #expect(!entry(#"{"metadata":{"campaig":"c1"}}"#).mentions(Self.campaign))
        #expect(!entry(#"{"metadata":{"campaigns":"c1"}}"#).mentions(Self.campaign))
        #expect(!entry(#""campaign"#).mentions(Self.campaign))
        #expect(!entry("").mentions(Self.campaign))
        #expect(!entry(nil).mentions(Self.campaign))
    }

    @Test func theEventIsDecodedFromTheBytesAndNilWithoutThem() {
        var event = DeliveryEvent(event: .delivered, time: "2026-12-07T00:00:00.000Z", queueID: "q1", messageID: nil, sender: "a@b.example")
        event.metadata = ["campaign": "c1"]
        let json = EventCoding.encode(event)
        let entry = EventGroups.Entry(id: "1-0", json: json)
        #expect(entry.event?.queueID == "q1")
        #expect(entry.event?.metadata?["campaign"] == "c1")
        #expect(entry.mentions(Self.campaign))
        #expect(EventGroups.Entry(id: "1-0", json: nil).event == nil)
        #expect(EventGroups.Entry(id: "1-0", json: ByteBuffer(string: "not json")).event == nil)
    }
}
