import Foundation
import RelayCore
import Testing

struct RemoteTextTests {
    @Test func plainShortTextIsKept() {
        #expect(RemoteText.capped("250 2.0.0 Ok: queued") == "250 2.0.0 Ok: queued")
        #expect(RemoteText.capped("550 5.1.1 ユーザー不明") == "550 5.1.1 ユーザー不明")
    }

    @Test func controlCharactersAreDropped() {
        let hostile = "451 \u{1B}[2J\u{1B}]0;pwned\u{07} red\tx \u{9B}1m\u{7F}\r\n end"
        #expect(RemoteText.sanitized(hostile) == "451 [2J]0;pwned red x 1m end")
        #expect(!RemoteText.capped(hostile).unicodeScalars.contains(where: RemoteText.isControl))
        #expect(RemoteText.sanitized("a\nb\u{1B}c", keepingLineFeeds: true) == "a\nbc")
    }

    @Test func escapedShowsControlsVisibly() {
        #expect(RemoteText.escaped("a\u{1B}[1mb\u{9B}\n") == "a\\u{1B}[1mb\\u{9B}\\u{A}")
        #expect(RemoteText.escaped("plain") == "plain")
    }

    /// Every cut lands between two scalars, whatever the width of the characters around it,
    /// and the result (ellipsis included) is never over the limit.
    @Test(arguments: [1, 2, 3, 4, 5, 7, 64, 509, 510, 511, 512, 513])
    func capNeverSplitsAUTF8Sequence(limit: Int) {
        for filler in ["a", "é", "日", "😀", "a日é😀"] {
            let text = "550 " + String(repeating: filler, count: 600)
            let capped = RemoteText.capped(text, maxBytes: limit)
            #expect(capped.utf8.count <= limit)
            // A String built from the bytes again is the same: no replacement character crept in.
            #expect(String(decoding: Array(capped.utf8), as: UTF8.self) == capped)
            #expect(!capped.contains("\u{FFFD}"))
            if limit > 3 {
                #expect(capped.hasSuffix("…"))
                #expect(text.hasPrefix(String(capped.dropLast())))
                // As much as fits: one more scalar would have gone over.
                let kept = String(capped.dropLast()).unicodeScalars.count
                let next = Array(text.unicodeScalars)[kept]
                #expect(capped.utf8.count - 3 + UTF8.width(next) > limit - 3)
            }
        }
    }

    @Test func textAtTheLimitIsNotCut() {
        let exact = String(repeating: "日", count: 170) + "ab"  // 512 octets
        #expect(exact.utf8.count == 512)
        #expect(RemoteText.capped(exact) == exact)
        #expect(RemoteText.capped(exact + "c").utf8.count <= 512)
    }

    @Test func eventJSONEscapesC1Controls() throws {
        var event = DeliveryEvent(event: .bounced, time: "t", queueID: "q", messageID: nil, sender: "")
        event.reply = "a\u{9B}b\u{85}c\u{A0}d é\u{1B}"
        let bytes = event.jsonBytes()
        #expect(!bytes.contains(0x1B))
        #expect(!zip(bytes, bytes.dropFirst()).contains { $0 == 0xC2 && (0x80...0x9F).contains($1) })
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#"a\u009bb\u0085c"#))
        let decoded = try JSONDecoder().decode(DeliveryEvent.self, from: Data(bytes))
        #expect(decoded.reply == event.reply)
    }
}

struct EscapingC1Tests {
    @Test func c1InsideJSONStringsIsEscapedAndTheRestKept() throws {
        let json = Array(#"{"reply":"a\#u{9B}1m é日 \#u{85}","n":1}"#.utf8)
        let escaped = RemoteText.escapingC1(json: json)
        #expect(String(decoding: escaped, as: UTF8.self) == #"{"reply":"a\u009b1m é日 \u0085","n":1}"#)
        let decoded = try JSONSerialization.jsonObject(with: Data(escaped)) as? [String: Any]
        #expect(decoded?["reply"] as? String == "a\u{9B}1m é日 \u{85}")
    }
}
