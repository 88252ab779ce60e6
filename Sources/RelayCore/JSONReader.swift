/// Why an event's JSON did not decode, and the byte offset where the reader stopped.
public struct DeliveryEventJSONError: Error, Hashable, Sendable, CustomStringConvertible {
    enum Code: Hashable, Sendable {
        /// Not RFC 8259 JSON: truncated, an unexpected byte, a bad escape or number, trailing bytes.
        case syntax
        /// Arrays or objects nested deeper than `JSONReader.maxDepth`.
        case tooDeep
        /// A string is not valid UTF-8 (RFC 8259 §8.1) or holds a lone UTF-16 surrogate escape.
        case invalidText
        /// A known field has a value of another JSON type, or a number out of range.
        case wrongType
        /// A field that every event has (`event`, `time`, `queue_id`, `sender`) is absent or null.
        case missingField
        /// `event`, `bounce_class` or `bounce_type` names no known value.
        case unknownValue
    }

    let code: Code
    public let offset: Int
    let detail: String

    public var description: String { "event JSON at byte \(offset): \(detail)" }
}

/// A strict RFC 8259 reader over UTF-8 bytes, for the one object shape of an event: no
/// document tree, strings made only for the values kept. Whitespace is the four bytes of
/// §2; numbers follow the §6 grammar (no leading zeros, `+`, `.5` or `1.`); strings must
/// not hold raw control characters (§7), and `\u` escapes of UTF-16 surrogates must pair
/// (a lone one is an error, as with Foundation's `JSONDecoder`).
struct JSONReader {
    /// Nesting allowed, counting the event object: enough for any value a later version
    /// might add, small enough that skipping one never recurses far.
    static let maxDepth = 32

    let bytes: UnsafeRawBufferPointer
    var index = 0
    /// The decoded bytes of the last string that held escapes.
    private(set) var scratch: [UInt8] = []

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func error(_ code: DeliveryEventJSONError.Code, _ detail: String) -> DeliveryEventJSONError {
        DeliveryEventJSONError(code: code, offset: index, detail: detail)
    }

    /// The next byte after whitespace, not consumed; nil at the end.
    mutating func peek() -> UInt8? {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return bytes[index]
            }
        }
        return nil
    }

    mutating func expect(_ byte: UInt8) throws(DeliveryEventJSONError) {
        guard peek() == byte else { throw error(.syntax, "expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    /// After a member or element: true on `,`, false on `close`.
    mutating func next(orClose close: UInt8) throws(DeliveryEventJSONError) -> Bool {
        switch peek() {
        case UInt8(ascii: ","):
            index += 1
            return true
        case close:
            index += 1
            return false
        default: throw error(.syntax, "expected ',' or '\(Character(Unicode.Scalar(close)))'")
        }
    }

    /// Only whitespace may follow the top-level value.
    mutating func end() throws(DeliveryEventJSONError) {
        if peek() != nil { throw error(.syntax, "bytes after the object") }
    }

    /// Consumes `null` if it comes next.
    mutating func null() throws(DeliveryEventJSONError) -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    mutating func literal(_ word: StaticString) throws(DeliveryEventJSONError) {
        let matched = word.withUTF8Buffer { word in
            index + word.count <= bytes.count && word.elementsEqual(bytes[index..<index + word.count])
        }
        guard matched else { throw error(.syntax, "expected \(word)") }
        index += word.utf8CodeUnitCount
    }

    /// A string literal's content: the range of the input when it held no escape, nil when
    /// it did and the decoded bytes are in `scratch`. UTF-8 is not checked here (`string()` does).
    mutating func stringBytes() throws(DeliveryEventJSONError) -> Range<Int>? {
        guard peek() == UInt8(ascii: "\"") else { throw error(.wrongType, "expected a string") }
        index += 1
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return start..<index - 1
            case UInt8(ascii: "\\"): return try escapedString(from: start)
            case 0..<0x20: throw error(.syntax, "control character in a string")
            default: index += 1
            }
        }
        throw error(.syntax, "unterminated string")
    }

    private mutating func escapedString(from start: Int) throws(DeliveryEventJSONError) -> Range<Int>? {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return nil
            case 0..<0x20: throw error(.syntax, "control character in a string")
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escape)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"): try unicodeEscape()
                default: throw error(.syntax, "bad escape")
                }
            default: scratch.append(byte)
            }
        }
        throw error(.syntax, "unterminated string")
    }

    /// After `\u`: four hex digits, and for a high surrogate the `\uDC00`–`\uDFFF` that must
    /// follow it (RFC 8259 §7), appended to `scratch` as UTF-8.
    private mutating func unicodeEscape() throws(DeliveryEventJSONError) {
        var value = UInt32(try hex4())
        if (0xD800...0xDBFF).contains(value) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error(.invalidText, "high surrogate escape without a low one")
            }
            index += 2
            let low = UInt32(try hex4())
            guard (0xDC00...0xDFFF).contains(low) else { throw error(.invalidText, "high surrogate escape without a low one") }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(value) {
            throw error(.invalidText, "low surrogate escape without a high one")
        }
        scratch.append(contentsOf: UTF8.encode(Unicode.Scalar(value)!)!)
    }

    private mutating func hex4() throws(DeliveryEventJSONError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw error(.syntax, "truncated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error(.syntax, "bad \\u escape")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    mutating func string() throws(DeliveryEventJSONError) -> String {
        let text: String?
        if let range = try stringBytes() {
            text = Self.string(UnsafeRawBufferPointer(rebasing: bytes[range]).assumingMemoryBound(to: UInt8.self))
        } else {
            text = scratch.withUnsafeBufferPointer { Self.string($0) }
        }
        guard let text else { throw error(.invalidText, "string is not UTF-8") }
        return text
    }

    /// Most strings in events are ASCII, which needs no validating beyond the check for it.
    private static func string(_ utf8: UnsafeBufferPointer<UInt8>) -> String? {
        if utf8.allSatisfy({ $0 < 0x80 }) { return String(decoding: utf8, as: UTF8.self) }
        return String(validating: utf8, as: UTF8.self)
    }

    /// A number's text (RFC 8259 §6) and whether it is an integer (no fraction or exponent).
    mutating func number() throws(DeliveryEventJSONError) -> (text: Slice<UnsafeRawBufferPointer>, integer: Bool) {
        guard let first = peek(), first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            throw error(.wrongType, "expected a number")
        }
        let start = index
        if first == UInt8(ascii: "-") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if try digits() == 0 {
            throw error(.syntax, "bad number")
        }
        var integer = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            integer = false
            if try digits() == 0 { throw error(.syntax, "bad number") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            integer = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            if try digits() == 0 { throw error(.syntax, "bad number") }
        }
        return (bytes[start..<index], integer)
    }

    private mutating func digits() throws(DeliveryEventJSONError) -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    /// Reads and discards any value, checking its syntax; `depth` counts the containers it is in.
    mutating func skipValue(depth: Int) throws(DeliveryEventJSONError) {
        switch peek() {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            guard depth < Self.maxDepth else { throw error(.tooDeep, "nested deeper than \(Self.maxDepth)") }
            index += 1
            if peek() == close {
                index += 1
                return
            }
            repeat {
                if close == UInt8(ascii: "}") {
                    _ = try stringBytes()
                    try expect(UInt8(ascii: ":"))
                }
                try skipValue(depth: depth + 1)
            } while try next(orClose: close)
        case UInt8(ascii: "\""): _ = try stringBytes()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case nil: throw error(.syntax, "truncated")
        case let byte?:
            guard byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw error(.syntax, "expected a value")
            }
            _ = try number()
        }
    }
}
