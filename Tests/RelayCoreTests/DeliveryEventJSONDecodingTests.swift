import Foundation
import RelayCore
import Testing

/// `DeliveryEvent(jsonBytes:)` against the encoder and against Foundation's `JSONDecoder`,
/// which it replaces and must agree with.
struct DeliveryEventJSONDecodingTests {
    /// SplitMix64, so a failing case can be reproduced from its index.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let pieces: [String] = [
        "", "a", "example.com", "\"", "\\", "\\\"", "/", "</script>", "\n", "\r\n", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}",
        "\u{80}", "\u{85}", "\u{9F}", "\u{A0}", "é", "e\u{301}", "日本語のメール", "十二月", "😀", "👩‍👩‍👧", "𝄞", "\u{FFFF}",
        "\u{2028}", "\u{FEFF}", "550 5.1.1 <user@example.net>: No such user", "{\"json\":[1,2]}", "%RCPT%", "ü@example.net",
    ]

    static func text(_ rng: inout Generator) -> String {
        (0..<Int.random(in: 0...4, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }

    static func event(_ rng: inout Generator) -> DeliveryEvent {
        func maybe<T>(_ make: (inout Generator) -> T) -> T? { Bool.random(using: &rng) ? make(&rng) : nil }
        var e = DeliveryEvent(
            event: DeliveryEvent.Kind.allCases.randomElement(using: &rng)!, time: text(&rng), queueID: text(&rng),
            messageID: maybe(text), sender: text(&rng))
        e.recipient = maybe(text)
        e.recipients = maybe { r in (0..<Int.random(in: 0...3, using: &r)).map { _ in text(&r) } }
        e.domain = maybe { DomainName(rawValue: text(&$0) + "Example.NET.") }
        e.remoteHost = maybe(text)
        e.remoteIP = maybe(text)
        e.reply = maybe(text)
        e.attempt = maybe { [0, 1, 3, -1, Int.max, Int.min, Int.random(in: 0...1000, using: &$0)].randomElement(using: &$0)! }
        e.acceptedAt = maybe(text)
        e.nextAttemptAt = maybe(text)
        e.size = maybe { Int.random(in: 0...(1 << 40), using: &$0) }
        e.clientIP = maybe(text)
        e.authUser = maybe(text)
        e.account = maybe(text)
        e.node = maybe(text)
        e.site = maybe { SiteName(rawValue: text(&$0)) }
        e.egressIP = maybe { EgressID(rawValue: text(&$0)) }
        e.action = maybe(text)
        e.rule = maybe(text)
        e.factor = maybe { r in
            [0.5, 0, 1, 3, -2.25, 0.1, 1e-300, 1.7976931348623157e308, 5e-324, 123456.789, Double.random(in: -1e6...1e6, using: &r)]
                .randomElement(using: &r)!
        }
        e.until = maybe(text)
        e.tags = maybe { r in (0..<Int.random(in: 0...3, using: &r)).map { _ in text(&r) } }
        e.metadata = maybe { r in
            Dictionary((0..<Int.random(in: 0...3, using: &r)).map { _ in (text(&r), text(&r)) }, uniquingKeysWith: { $1 })
        }
        e.bounceClass = maybe { BounceClass.allCases.randomElement(using: &$0)! }
        e.bounceType = maybe { BounceSeverity.allCases.randomElement(using: &$0)! }
        e.async = maybe { Bool.random(using: &$0) }
        e.suppression = maybe(text)
        return e
    }

    @Test func decodesWhatTheEncoderWritesAsJSONDecoderDoes() throws {
        var rng = Generator(state: 16)
        for index in 0..<3000 {
            let event = Self.event(&rng)
            let bytes = event.jsonBytes()
            let ours = try DeliveryEvent(jsonBytes: bytes)
            #expect(ours == event, "case \(index)")
            #expect(ours == (try JSONDecoder().decode(DeliveryEvent.self, from: Data(bytes))), "case \(index)")
        }
    }

    @Test func everyFieldSetAndNoneSet() throws {
        let full = DeliveryEventJSONTests.sample()
        #expect(try DeliveryEvent(jsonBytes: full.jsonBytes()) == full)
        let bare = DeliveryEvent(event: .accepted, time: "", queueID: "", messageID: nil, sender: "")
        #expect(try DeliveryEvent(jsonBytes: bare.jsonBytes()) == bare)
        #expect(try DeliveryEvent(json: String(decoding: full.jsonBytes(), as: UTF8.self)) == full)
    }

    /// Decodes with both readers, expects the same outcome, and returns ours.
    @discardableResult
    static func agree(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> DeliveryEvent? {
        let ours = Result { try DeliveryEvent(json: json) }
        let theirs = Result { try JSONDecoder().decode(DeliveryEvent.self, from: Data(json.utf8)) }
        switch (ours, theirs) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(json)", sourceLocation: sourceLocation)
            return a
        case (.failure, .failure): return nil
        case (.success, .failure(let error)):
            Issue.record("accepted, JSONDecoder refuses (\(error)): \(json)", sourceLocation: sourceLocation)
        case (.failure(let error), .success):
            Issue.record("refused (\(error)), JSONDecoder accepts: \(json)", sourceLocation: sourceLocation)
        }
        return nil
    }

    static let minimal = #""event":"bounced","time":"t","queue_id":"q","sender":"s""#

    @Test func acceptsOtherSpellings() throws {
        let spaced = try #require(
            try Self.agree(" \r\n\t{ \"sender\" : \"s\" ,\n\t\"time\":\"t\" , \"queue_id\":\"q\",\"event\" :\"bounced\" } \n"))
        #expect(spaced == DeliveryEvent(event: .bounced, time: "t", queueID: "q", messageID: nil, sender: "s"))
        let escaped = try #require(
            try Self.agree(#"{\#(Self.minimal),"reply":"a\/b \"q\" \\ \b\f\n\r\t \u00e9 \u65E5 \ud83d\ude00 \u0000 \u001F","node":"h\/1"}"#)
        )
        #expect(escaped.reply == "a/b \"q\" \\ \u{8}\u{C}\n\r\t é 日 😀 \u{0} \u{1F}")
        #expect(escaped.node == "h/1")
        // Escaped key names are the same keys.
        #expect(try Self.agree(#"{"\u0065vent":"bounced","time":"t","queue_id":"q","sender":"s","\u0072eply":"r"}"#)?.reply == "r")
        // Unknown keys, whatever their value, are skipped.
        let unknown = try #require(
            try Self.agree(
                #"{"x":{"a":[1,{"b":[[],{}]},"c",true,false,null,-1.5e-3]},\#(Self.minimal),"y":[[[{"z":"\""}]]],"w":null,"v":0}"#))
        #expect(unknown == DeliveryEvent(event: .bounced, time: "t", queueID: "q", messageID: nil, sender: "s"))
        // null is absent; the first of duplicate keys wins, the others are not even type-checked (as JSONDecoder).
        let nulls = try #require(
            try Self.agree(#"{\#(Self.minimal),"reply":null,"tags":null,"metadata":null,"async":null,"attempt":null}"#))
        #expect(nulls.reply == nil && nulls.tags == nil && nulls.metadata == nil && nulls.async == nil && nulls.attempt == nil)
        let dup = try #require(
            try Self.agree(#"{\#(Self.minimal),"reply":"a","reply":"b","event":"delivered","sender":null,"time":["x"],"\u0072eply":3}"#))
        #expect(dup.reply == "a" && dup.event == .bounced && dup.sender == "s" && dup.time == "t")
        #expect(try Self.agree(#"{"event":null,\#(Self.minimal)}"#) == nil)
        #expect(try Self.agree(#"{"reply":null,\#(Self.minimal),"reply":"a"}"#)?.reply == nil)
        #expect(try Self.agree(#"{\#(Self.minimal),"metadata":{"k":"1","k":"2","k":3}}"#)?.metadata == ["k": "1"])
        // Typed fields are made as their Decodable conformances make them.
        let typed = try #require(
            try Self.agree(
                #"{\#(Self.minimal),"domain":"Example.NET.","site":"Gmail","egress_ip":"host:x","bounce_class":"mailbox_full","bounce_type":"hard"}"#
            ))
        #expect(typed.domain?.rawValue == "example.net" && typed.site?.rawValue == "Gmail" && typed.bounceClass == .mailboxFull)
        #expect(try Self.agree(#"{\#(Self.minimal),"tags":[],"metadata":{},"recipients":[ "a" , "b" ]}"#)?.recipients == ["a", "b"])
    }

    @Test(arguments: [
        "3", "3.0", "3e0", "3E+0", "30e-1", "0.3e1", "-3", "-0", "0", "-1.5", "2.5e-3", "1e+14", "0.1", "4.9e-324", "1e-320", "0e-400",
        "0.000e-400", "1e-400", "-1e-400", "1e400", "-1e309",
    ])
    func factorSpellings(number: String) throws {
        // Numbers beyond a Double's range either way are refused, as JSONDecoder refuses them.
        let event = try Self.agree(#"{\#(Self.minimal),"factor":\#(number)}"#)
        #expect(
            (event?.factor).map { $0 == Double(number) } ?? number.hasSuffix("e-400") || number.hasSuffix("e400")
                || number.hasSuffix("e309"))
        #expect((event == nil) == (number == "1e-400" || number == "-1e-400" || number == "1e400" || number == "-1e309"))
    }

    @Test(arguments: [
        "3", "3.0", "3e0", "1e+14", "-0", "9223372036854775807", "-9223372036854775808", "1.5", "9223372036854775808", "1e400", "1e-400",
        "0e-400", "\"3\"",
    ])
    func integerSpellings(number: String) throws {
        let attempt = try Self.agree(#"{\#(Self.minimal),"attempt":\#(number),"size":\#(number)}"#)
        if let attempt { #expect(attempt.attempt.map(Double.init) == Double(number)) }
    }

    /// What cjson (`cjson.encode` in Redis scripts, `%.14g` numbers, `\/`) and the scripts'
    /// own `json_string` (`\u001b` for controls) write.
    @Test func acceptsCjsonOutput() throws {
        let purged = try #require(
            try Self.agree(
                #"{"recipient":"b@example.com","queue_id":"01JABC","node":"host\/1","attempt":2,"domain":"example.com","sender":"a@example.org","time":"2026-01-02T03:04:05.000Z","reply":"purged by operator \/ <x>","event":"purged","message_id":"<m@x>","accepted_at":"2026-01-02T03:00:00.000Z"}"#
            ))
        #expect(purged.node == "host/1" && purged.attempt == 2 && purged.event == .purged)
        #expect(try Self.agree(#"{\#(Self.minimal),"attempt":1e+14,"factor":0.33333333333333}"#)?.attempt == 100_000_000_000_000)
        #expect(
            try Self.agree(#"{\#(Self.minimal),"recipient":"a\u001bb\u007f","suppression":"hard_bounce"}"#)?.recipient == "a\u{1B}b\u{7F}")
    }

    @Test(arguments: [
        "", " ", "{", "{}", "[]", "null", "\"x\"", "{\(minimal)", "{\(minimal)}x", "{\(minimal)}{}", "{,\(minimal)}",
        "{\(minimal),\"reply\"}", "{\(minimal),\"reply\":}", "{\(minimal) \"reply\":\"a\"}", "{\(minimal),\"reply\":'a'}",
        "{\(minimal),\"reply\":\"a}", "{\(minimal),\"reply\":\"\\x\"}", "{\(minimal),\"reply\":\"\\u12\"}",
        "{\(minimal),\"reply\":\"\\u12g4\"}",
        "{\(minimal),\"reply\":\"a\nb\"}", "{\(minimal),\"reply\":\"\\ud83d\"}", "{\(minimal),\"reply\":\"\\ude00\"}",
        "{\(minimal),\"reply\":\"\\ud83d\\u0041\"}", "{\(minimal),\"x\":+1}", "{\(minimal),\"x\":.5}",
        "{\(minimal),\"x\":tru}", "{\(minimal),\"x\":nul}",
        "{\(minimal),\"x\":NaN}", "{\(minimal),\"x\":{\"a\"}}", "{\(minimal),\"x\":{1:2}}",
        "{\"time\":\"t\",\"queue_id\":\"q\",\"sender\":\"s\"}", "{\"event\":\"bounced\",\"queue_id\":\"q\",\"sender\":\"s\"}",
        "{\"event\":\"bounced\",\"time\":\"t\",\"sender\":\"s\"}", "{\"event\":\"bounced\",\"time\":\"t\",\"queue_id\":\"q\"}",
        "{\"event\":\"exploded\",\"time\":\"t\",\"queue_id\":\"q\",\"sender\":\"s\"}",
        "{\(minimal),\"bounce_class\":\"weird\"}", "{\(minimal),\"bounce_type\":\"Hard\"}", "{\(minimal),\"reply\":3}",
        "{\(minimal),\"attempt\":\"3\"}", "{\(minimal),\"factor\":\"0.5\"}", "{\(minimal),\"factor\":true}",
        "{\(minimal),\"async\":1}", "{\(minimal),\"async\":\"true\"}", "{\(minimal),\"tags\":\"a\"}", "{\(minimal),\"tags\":[1]}",
        "{\(minimal),\"tags\":[null]}", "{\(minimal),\"metadata\":[]}", "{\(minimal),\"metadata\":{\"k\":1}}",
        "{\(minimal),\"metadata\":{\"k\":null}}", "{\(minimal),\"recipients\":[\"a\",[\"b\"]]}",
    ])
    func refusesMalformed(json: String) throws {
        #expect(throws: DeliveryEventJSONError.self) { try DeliveryEvent(json: json) }
        #expect(try Self.agree(json) == nil)
    }

    /// RFC 8259 grammar that `JSONDecoder` lets pass (trailing commas; numbers it skips are
    /// not checked): refused here.
    @Test(arguments: [
        "{\(minimal),}", "{\(minimal),\"x\":[1,]}", "{\(minimal),\"x\":{\"a\":1,}}", "{\(minimal),\"x\":01}",
        "{\(minimal),\"x\":1.}", "{\(minimal),\"x\":1e}", "{\(minimal),\"x\":-}", "{\(minimal),\"tags\":[\"a\",]}",
    ])
    func refusesWhatJSONDecoderLetsPass(json: String) throws {
        #expect(throws: DeliveryEventJSONError.self) { try DeliveryEvent(json: json) }
    }

    @Test func refusesInvalidUTF8InAString() {
        for bad: [UInt8] in [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF]] {
            let json = Array("{\(Self.minimal),\"reply\":\"a".utf8) + bad + Array("\"}".utf8)
            #expect(throws: DeliveryEventJSONError.self) { try DeliveryEvent(jsonBytes: json) }
            #expect(throws: (any Error).self) { try JSONDecoder().decode(DeliveryEvent.self, from: Data(json)) }
        }
    }

    @Test func nestingIsBoundedNotRecursedWithoutLimit() throws {
        let deep = 31  // with the event object: 32 levels
        #expect(
            try DeliveryEvent(json: "{\(Self.minimal),\"x\":\(String(repeating: "[", count: deep))\(String(repeating: "]", count: deep))}")
                .sender == "s")
        for bomb in [
            String(repeating: "[", count: 10_000), String(repeating: "{\"a\":", count: 10_000),
            "{\(Self.minimal),\"x\":" + String(repeating: "[", count: 10_000),
        ] {
            #expect(throws: DeliveryEventJSONError.self) { try DeliveryEvent(json: bomb) }
        }
        let closed = "{\(Self.minimal),\"x\":\(String(repeating: "[", count: 10_000))\(String(repeating: "]", count: 10_000))}"
        #expect(throws: DeliveryEventJSONError.self) { try DeliveryEvent(json: closed) }
    }

    @Test func truncatedAtEveryByteThrows() throws {
        let bytes = DeliveryEventJSONTests.sample().jsonBytes()
        for end in 0..<bytes.count {
            #expect(throws: DeliveryEventJSONError.self) { try DeliveryEvent(jsonBytes: Array(bytes[..<end])) }
        }
    }
}

/// Prints the time to decode typical events with each reader; run with
/// `HIKYAKU_BENCH=1 swift test --filter DecodingBenchmark`. Not asserted: figures only.
struct DecodingBenchmark {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["HIKYAKU_BENCH"] != nil))
    func decodeTypicalEvents() throws {
        var event = DeliveryEvent(
            event: .delivered, time: "2026-11-29T01:02:03.456Z", queueID: "01JDEF2K8Q9ZC3XV7N4T5W6Y0B",
            messageID: "<20261129010203.1234@app.example.com>", sender: "news@app.example.com")
        event.recipient = "someone@example.net"
        event.domain = "example.net"
        event.remoteHost = "mx1.example.net"
        event.remoteIP = "192.0.2.25"
        event.reply = "250 2.0.0 OK 1732842123 d2e1a72fcca58-724de4f2b4csi12345pfb.123 - gsmtp"
        event.attempt = 1
        event.acceptedAt = "2026-11-29T01:02:01.000Z"
        event.size = 24_512
        event.account = "acme"
        event.node = "relay-1/4242"
        event.site = "gmail"
        event.egressIP = "198.51.100.7"
        event.tags = ["newsletter"]
        event.metadata = ["campaign": "winter", "user_id": "12345"]
        let bytes = event.jsonBytes()
        let data = Data(bytes)
        let count = 100_000
        let clock = ContinuousClock()
        var sink = 0
        let ours = try clock.measure {
            for _ in 0..<count { sink &+= try DeliveryEvent(jsonBytes: bytes).attempt ?? 0 }
        }
        let foundation = try clock.measure {
            let decoder = JSONDecoder()
            for _ in 0..<count { sink &+= try decoder.decode(DeliveryEvent.self, from: data).attempt ?? 0 }
        }
        print("decode \(count) events of \(bytes.count) bytes: DeliveryEvent(jsonBytes:) \(ours), JSONDecoder \(foundation) (\(sink))")
    }
}
