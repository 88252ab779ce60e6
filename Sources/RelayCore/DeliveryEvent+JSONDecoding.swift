extension DeliveryEvent {
    /// Reads one event object (RFC 8259) — the decoding side of `jsonBytes()`, written by
    /// hand because every consumer group decodes every event. It accepts what `JSONDecoder`
    /// accepts for this type and yields the same value: keys in any order, whitespace, every
    /// escape (cjson's `\/` included), any number spelling for `factor` and integral ones
    /// (`3`, `3.0`, `3e0`, cjson's `1e+14`) for `attempt` and `size`, `null` as absent,
    /// unknown keys skipped whatever their value (nested at most `JSONReader.maxDepth`
    /// deep). Of duplicate keys the first wins and the others are only checked for syntax,
    /// as Foundation's `JSONDecoder` (swift-foundation) does — RFC 8259 §4 leaves it open.
    /// Typed names are made with `init(rawValue:)`, as their `Decodable` conformances do
    /// (a `DomainName` is normalised).
    ///
    /// Stricter than `JSONDecoder`, on input no writer of events produces: nesting over 32
    /// levels, trailing commas, and numbers outside the RFC 8259 §6 grammar (`01`, `1.`,
    /// `-`) in skipped values are refused.
    public init(jsonBytes: UnsafeRawBufferPointer) throws(DeliveryEventJSONError) {
        var reader = JSONReader(jsonBytes)
        self.init(event: .accepted, time: "", queueID: "", messageID: nil, sender: "")
        /// The required fields read with a value, as bits of `Required`.
        var present: UInt8 = 0
        /// The known keys read, by `CodingKeys.allCases` index.
        var seen: UInt64 = 0
        try reader.expect(UInt8(ascii: "{"))
        if reader.peek() == UInt8(ascii: "}") {
            reader.index += 1
        } else {
            repeat {
                let key = try Self.key(&reader)
                try reader.expect(UInt8(ascii: ":"))
                if let key, seen & key.bit == 0 {
                    seen |= key.bit
                    try read(key.key, from: &reader, present: &present)
                } else {
                    try reader.skipValue(depth: 1)
                }
            } while try reader.next(orClose: UInt8(ascii: "}"))
        }
        try reader.end()
        for field in Required.allCases where present & field.rawValue == 0 {
            throw reader.error(.missingField, "no \(field)")
        }
    }

    public init(jsonBytes: [UInt8]) throws(DeliveryEventJSONError) {
        self = try jsonBytes.withUnsafeBytes { bytes in Self.result(bytes) }.get()
    }

    /// An event stored as text (the log stores' `json` column).
    public init(json: String) throws(DeliveryEventJSONError) {
        var json = json
        self = try json.withUTF8 { bytes in Self.result(UnsafeRawBufferPointer(bytes)) }.get()
    }

    /// For closures that only rethrow `any Error`.
    private static func result(_ bytes: UnsafeRawBufferPointer) -> Result<DeliveryEvent, DeliveryEventJSONError> {
        Result { () throws(DeliveryEventJSONError) in try DeliveryEvent(jsonBytes: bytes) }
    }

    private enum Required: UInt8, CaseIterable, CustomStringConvertible {
        case event = 1, time = 2, queueID = 4, sender = 8
        var description: String { ["event", "time", "queue_id", "sender"][Self.allCases.firstIndex(of: self)!] }
    }

    private mutating func read(_ key: CodingKeys, from reader: inout JSONReader, present: inout UInt8) throws(DeliveryEventJSONError) {
        /// A required string: null leaves it missing.
        func required(_ field: Required) throws(DeliveryEventJSONError) -> String? {
            let value = try string(&reader)
            if value != nil { present |= field.rawValue }
            return value
        }
        switch key {
        case .event:
            guard let raw = try required(.event) else { return }
            guard let kind = Kind(rawValue: raw) else { throw reader.error(.unknownValue, "unknown event '\(raw)'") }
            event = kind
        case .time: time = try required(.time) ?? ""
        case .queueID: queueID = try required(.queueID) ?? ""
        case .sender: sender = try required(.sender) ?? ""
        case .messageID: messageID = try string(&reader)
        case .recipient: recipient = try string(&reader)
        case .recipients: recipients = try strings(&reader)
        case .domain: domain = try string(&reader).map(DomainName.init(rawValue:))
        case .remoteHost: remoteHost = try string(&reader)
        case .remoteIP: remoteIP = try string(&reader)
        case .reply: reply = try string(&reader)
        case .attempt: attempt = try int(&reader)
        case .acceptedAt: acceptedAt = try string(&reader)
        case .nextAttemptAt: nextAttemptAt = try string(&reader)
        case .size: size = try int(&reader)
        case .clientIP: clientIP = try string(&reader)
        case .authUser: authUser = try string(&reader)
        case .account: account = try string(&reader)
        case .node: node = try string(&reader)
        case .site: site = try string(&reader).map(SiteName.init(rawValue:))
        case .egressIP: egressIP = try string(&reader).map(EgressID.init(rawValue:))
        case .action: action = try string(&reader)
        case .rule: rule = try string(&reader)
        case .factor: factor = try double(&reader)
        case .until: until = try string(&reader)
        case .tags: tags = try strings(&reader)
        case .metadata: metadata = try stringMap(&reader)
        case .bounceClass: bounceClass = try enumeration(&reader)
        case .bounceType: bounceType = try enumeration(&reader)
        case .async:
            if try reader.null() {
                async = nil
            } else if reader.peek() == UInt8(ascii: "t") {
                try reader.literal("true")
                async = true
            } else if reader.peek() == UInt8(ascii: "f") {
                try reader.literal("false")
                async = false
            } else {
                throw reader.error(.wrongType, "expected true or false")
            }
        case .suppression: suppression = try string(&reader)
        }
    }

    // MARK: Values (each reads `null` as absent)

    private func string(_ reader: inout JSONReader) throws(DeliveryEventJSONError) -> String? {
        try reader.null() ? nil : try reader.string()
    }

    private func enumeration<T: RawRepresentable<String>>(_ reader: inout JSONReader) throws(DeliveryEventJSONError) -> T? {
        guard let raw = try string(&reader) else { return nil }
        guard let value = T(rawValue: raw) else { throw reader.error(.unknownValue, "unknown \(T.self) '\(raw)'") }
        return value
    }

    private func strings(_ reader: inout JSONReader) throws(DeliveryEventJSONError) -> [String]? {
        if try reader.null() { return nil }
        guard reader.peek() == UInt8(ascii: "[") else { throw reader.error(.wrongType, "expected an array") }
        reader.index += 1
        var out: [String] = []
        if reader.peek() == UInt8(ascii: "]") {
            reader.index += 1
            return out
        }
        repeat { out.append(try reader.string()) } while try reader.next(orClose: UInt8(ascii: "]"))
        return out
    }

    private func stringMap(_ reader: inout JSONReader) throws(DeliveryEventJSONError) -> [String: String]? {
        if try reader.null() { return nil }
        guard reader.peek() == UInt8(ascii: "{") else { throw reader.error(.wrongType, "expected an object") }
        reader.index += 1
        var out: [String: String] = [:]
        if reader.peek() == UInt8(ascii: "}") {
            reader.index += 1
            return out
        }
        repeat {
            let name = try reader.string()
            try reader.expect(UInt8(ascii: ":"))
            if out[name] == nil {
                out[name] = try reader.string()
            } else {
                try reader.skipValue(depth: 2)  // the first wins, as for the event's own keys
            }
        } while try reader.next(orClose: UInt8(ascii: "}"))
        return out
    }

    /// An `Int`: integer text exactly, or other spellings whose value is integral (`3.0`,
    /// `1e+14` as cjson's `%.14g` writes large numbers), as `JSONDecoder` reads them.
    private func int(_ reader: inout JSONReader) throws(DeliveryEventJSONError) -> Int? {
        if try reader.null() { return nil }
        let (text, integer) = try reader.number()
        guard integer else {
            // Underflow reads as 0 here, as JSONDecoder reads it (unlike for a Double).
            guard let value = Double(String(decoding: text, as: UTF8.self)).flatMap({ Int(exactly: $0) }) else {
                throw reader.error(.wrongType, "number is not an integer in range")
            }
            return value
        }
        let negative = text.first == UInt8(ascii: "-")
        var value = 0
        for digit in text.dropFirst(negative ? 1 : 0) {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow((negative ? -1 : 1) * Int(digit - UInt8(ascii: "0")))
            guard !overflow, !overflow2 else { throw reader.error(.wrongType, "integer out of range") }
            value = sum
        }
        return value
    }

    private func double(_ reader: inout JSONReader) throws(DeliveryEventJSONError) -> Double? {
        if try reader.null() { return nil }
        guard let value = Self.double(try reader.number().text) else { throw reader.error(.wrongType, "number out of range") }
        return value
    }

    /// The nearest `Double`; nil for a number too large for one, or too small (one that
    /// is not zero but would read as zero), which `JSONDecoder` refuses too.
    private static func double(_ text: Slice<UnsafeRawBufferPointer>) -> Double? {
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else { return nil }
        if value == 0, text.prefix(while: { $0 | 0x20 != UInt8(ascii: "e") }).contains(where: { (0x31...0x39).contains($0) }) {
            return nil
        }
        return value
    }

    // MARK: Keys

    /// The coding keys by the length of their JSON name, so a key is compared with few.
    private static let keysByLength: [[(name: [UInt8], key: CodingKeys, bit: UInt64)]] = {
        var table = Array(repeating: [(name: [UInt8], key: CodingKeys, bit: UInt64)](), count: 17)
        for (index, key) in CodingKeys.allCases.enumerated() {
            let name = Array(key.stringValue.utf8)
            table[name.count].append((name, key, 1 << index))
        }
        return table
    }()

    /// Reads a member name; nil for one the event does not have.
    private static func key(_ reader: inout JSONReader) throws(DeliveryEventJSONError) -> (key: CodingKeys, bit: UInt64)? {
        guard reader.peek() == UInt8(ascii: "\"") else { throw reader.error(.syntax, "expected a member name") }
        let table = keysByLength
        func match(_ name: some Collection<UInt8>) -> (key: CodingKeys, bit: UInt64)? {
            guard name.count < table.count else { return nil }
            for entry in table[name.count] where entry.name.elementsEqual(name) { return (entry.key, entry.bit) }
            return nil
        }
        if let range = try reader.stringBytes() { return match(reader.bytes[range]) }
        return match(reader.scratch)
    }
}
