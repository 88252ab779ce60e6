/// A duration written in the configuration as a number and a unit:
/// `250ms`, `30s`, `5m`, `2h`, `5d` (a bare number means seconds).
public struct ConfigDuration: Sendable, Hashable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> ConfigDuration { .init(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> ConfigDuration { .init(milliseconds: m * 60_000) }
    public static func hours(_ h: Int64) -> ConfigDuration { .init(milliseconds: h * 3_600_000) }
    public static func days(_ d: Int64) -> ConfigDuration { .init(milliseconds: d * 86_400_000) }

    public var duration: Duration { .milliseconds(milliseconds) }

    /// Parses `"250ms"`, `"30s"`, `"5m"`, `"2h"`, `"5d"` or `"30"` (seconds).
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces()
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            if let value = Int64(number), value >= 0 {
                self.milliseconds = value * factor
                return
            }
        }
        guard let seconds = Int64(trimmed), seconds >= 0 else { return nil }
        self.milliseconds = seconds * 1000
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Int64.self), seconds >= 0 {
            self.milliseconds = seconds * 1000
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = ConfigDuration(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a duration; write e.g. 250ms, 30s, 5m, 2h or 5d")
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        let units: [(String, Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        for (suffix, factor) in units where milliseconds != 0 && milliseconds % factor == 0 {
            return "\(milliseconds / factor)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return String(s)
    }
}

extension Duration {
    /// Whole milliseconds (truncated): what Redis arguments and ``ConfigDuration`` count in.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
