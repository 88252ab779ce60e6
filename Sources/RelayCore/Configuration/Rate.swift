/// A rate limit written `count/period`: `3000/h`, `60/min`, `5/s`, `20/10s`, `100/1m`.
///
/// Enforced as a generic cell rate (GCRA): one message every `period / count`, with up to
/// `burst` sent back to back when the sender was idle. In any window of length `period`
/// at most `count + burst - 1` pass (the tolerance of the limit).
public struct Rate: Sendable, Hashable, Codable, CustomStringConvertible {
    public var count: Int
    public var period: ConfigDuration
    /// Messages that may go at once after an idle time. Default 1 (strict spacing).
    public var burst: Int

    public init(count: Int, period: ConfigDuration, burst: Int = 1) {
        self.count = count
        self.period = period
        self.burst = burst
    }

    /// Time between two messages at this rate (the GCRA emission interval), in
    /// microseconds, rounded up so a period never passes more than `count + burst - 1`.
    public var intervalMicroseconds: Int64 {
        let count = Int64(max(self.count, 1))
        return (period.milliseconds * 1000 + count - 1) / count
    }

    public init?(parsing text: String) {
        var text = text.trimmingSpaces()
        var burst = 1
        // Optional burst: "60/min burst 5"
        if let range = text.firstRange(of: " burst ") {
            guard let b = Int(String(text[range.upperBound...]).trimmingSpaces()), b >= 1 else { return nil }
            burst = b
            text = String(text[..<range.lowerBound])
        }
        let parts = text.split(separator: "/", maxSplits: 1).map { String($0).trimmingSpaces() }
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else { return nil }
        let named: [String: ConfigDuration] = [
            "s": .seconds(1), "sec": .seconds(1), "second": .seconds(1),
            "m": .minutes(1), "min": .minutes(1), "minute": .minutes(1),
            "h": .hours(1), "hour": .hours(1), "d": .days(1), "day": .days(1),
        ]
        let period: ConfigDuration
        if let unit = named[parts[1]] {
            period = unit
        } else if let parsed = ConfigDuration(parsing: parts[1]), parsed.milliseconds > 0 {
            period = parsed
        } else {
            return nil
        }
        self.init(count: count, period: period, burst: burst)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = Rate(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "'\(text)' is not a rate; write e.g. 60/min, 3000/h, 5/s or 20/10s (optionally followed by 'burst N')")
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        "\(count)/\(period)" + (burst > 1 ? " burst \(burst)" : "")
    }
}
