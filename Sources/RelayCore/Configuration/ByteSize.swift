/// A size in octets, written as a plain number or with a binary unit:
/// `1048576`, `512KiB`, `25MiB`, `1GiB` (`KB`/`MB`/`GB` and `K`/`M`/`G` are accepted as the
/// same binary units).
public struct ByteSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public var bytes: Int

    public init(bytes: Int) { self.bytes = bytes }
    public static func mebibytes(_ n: Int) -> ByteSize { .init(bytes: n << 20) }

    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces()
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("B", 1),
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30),
        ]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            // A value too large to count in octets is not a size (rather than a trap).
            if let value = Int(String(trimmed.dropLast(suffix.count)).trimmingSpaces()), value >= 0 {
                let (bytes, overflow) = value.multipliedReportingOverflow(by: factor)
                if !overflow {
                    self.bytes = bytes
                    return
                }
            }
            return nil
        }
        guard let value = Int(trimmed), value >= 0 else { return nil }
        self.bytes = value
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self), value >= 0 {
            self.bytes = value
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = ByteSize(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a size; write e.g. 1048576, 512KiB or 25MiB")
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(bytes)
    }

    public var description: String {
        if bytes != 0 && bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes != 0 && bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes)"
    }
}
