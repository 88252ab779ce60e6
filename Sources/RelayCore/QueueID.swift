/// The relay's id for one accepted message: sortable by acceptance time and unique
/// across ingest nodes (48-bit millisecond clock + 40 random bits, Crockford base32,
/// 18 characters), e.g. `01JDQ3T6Z8F0M4X2KP`. It is the id in the `250 … queued as`
/// reply and in every event.
public struct QueueID: Sendable, Hashable, CustomStringConvertible, Codable {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new id for a message accepted at `milliseconds` since 1970.
    public static func generate(milliseconds: Int64, random: inout some RandomNumberGenerator) -> QueueID {
        // 48 bits of time and 40 bits of randomness = 88 bits, written as 18 base32 digits (90 bits).
        let time = UInt64(milliseconds) & 0xFFFF_FFFF_FFFF
        let noise = random.next() & 0xFF_FFFF_FFFF
        var digits = [UInt8](repeating: 0, count: 18)
        var low = noise
        for i in stride(from: 17, through: 10, by: -1) {
            digits[i] = alphabet[Int(low & 31)]
            low >>= 5
        }
        // 40 random bits fill 8 digits exactly; the time fills the 10 before them.
        var high = time
        for i in stride(from: 9, through: 0, by: -1) {
            digits[i] = alphabet[Int(high & 31)]
            high >>= 5
        }
        return QueueID(rawValue: String(decoding: digits, as: UTF8.self))
    }

    public static func generate() -> QueueID {
        var rng = SystemRandomNumberGenerator()
        return generate(milliseconds: WallClock.nowMilliseconds(), random: &rng)
    }

    /// When the message was accepted (ms since 1970), read back from the id's first ten
    /// digits; nil when the id is not one this relay made.
    public var milliseconds: Int64? {
        let digits = Array(rawValue.utf8)
        guard digits.count == 18 else { return nil }
        var value: Int64 = 0
        for digit in digits[0..<10] {
            guard let index = Self.alphabet.firstIndex(of: digit) else { return nil }
            value = value << 5 | Int64(index)
        }
        return value
    }

    /// Whether `text` has the form of an id (18 Crockford base32 digits).
    public static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 18 && text.utf8.allSatisfy { alphabet.contains($0) }
    }

    public var description: String { rawValue }
}
