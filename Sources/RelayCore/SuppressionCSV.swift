extension WallClock {
    /// Milliseconds since 1970 of an RFC 3339 time (`2026-12-01T00:00:00Z`,
    /// `2026-12-01T09:00:00.250+09:00`) or a bare date (`2026-12-01`, midnight UTC); nil if
    /// it is neither.
    public static func milliseconds(iso8601 text: String) -> Int64? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var value: Int64 = 0
            for byte in b[from..<from + count] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard b.count >= 10, b[4] == 0x2D, b[7] == 0x2D, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        // Days from 1970-01-01 (the civil-from-days inverse; proleptic Gregorian).
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        var ms = days * 86_400_000
        if b.count == 10 { return ms }
        guard b.count >= 20, b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, b[13] == 0x3A, b[16] == 0x3A,
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2), hour < 24, minute < 60, second <= 60
        else { return nil }
        ms += (hour * 3600 + minute * 60 + second) * 1000
        var i = 19
        if b[i] == 0x2E {
            i += 1
            var fraction: Int64 = 0
            var digits = 0
            while i < b.count, (0x30...0x39).contains(b[i]) {
                if digits < 3 { fraction = fraction * 10 + Int64(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { fraction *= 10 } }
            ms += fraction
        }
        guard i < b.count else { return nil }
        if (b[i] == 0x5A || b[i] == 0x7A) && i == b.count - 1 { return ms }
        guard b.count == i + 6, b[i] == 0x2B || b[i] == 0x2D, b[i + 3] == 0x3A, let oh = number(i + 1, 2), let om = number(i + 4, 2)
        else { return nil }
        let offset = (oh * 60 + om) * 60_000
        return b[i] == 0x2B ? ms - offset : ms + offset
    }
}

/// The CSV of `hikyaku suppression import|export`: a header line
/// `address,reason,created_at,expires_at`, then one entry per line (RFC 4180 fields; an
/// address needing quotes is quoted).
public enum SuppressionCSV {
    public static let header = "address,reason,created_at,expires_at"

    /// Why a row was skipped.
    public struct RowError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// One data row as an entry. `created_at` may be empty (now); `expires_at` empty means
    /// none, else RFC 3339 or a date. `now` fills an empty `created_at`.
    public static func parse(row line: Substring, now: Int64) -> Result<SuppressionEntry, RowError> {
        let fields: [String]
        switch split(line) {
        case .success(let parsed): fields = parsed
        case .failure(let error): return .failure(error)
        }
        guard (2...4).contains(fields.count) else {
            return .failure(RowError(description: "\(fields.count) fields; want address,reason[,created_at[,expires_at]]"))
        }
        let address = fields[0].trimmingSpaces()
        guard let at = address.lastIndex(of: "@"), at != address.startIndex, address.index(after: at) != address.endIndex,
            !address.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0.asciiValue.map { $0 < 0x20 } == true })
        else { return .failure(RowError(description: "'\(address.prefix(80))' is not an email address")) }
        guard let reason = SuppressionReason(rawValue: fields[1].trimmingSpaces()) else {
            return .failure(
                RowError(
                    description: "reason '\(fields[1].prefix(40))' is not one of "
                        + SuppressionReason.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        var created = WallClock.iso8601(milliseconds: now)
        if fields.count > 2, !fields[2].trimmingSpaces().isEmpty {
            guard let ms = WallClock.milliseconds(iso8601: fields[2].trimmingSpaces()) else {
                return .failure(RowError(description: "created_at '\(fields[2].prefix(40))' is not an RFC 3339 time"))
            }
            created = WallClock.iso8601(milliseconds: ms)
        }
        var expires: String?
        if fields.count > 3, !fields[3].trimmingSpaces().isEmpty {
            guard let ms = WallClock.milliseconds(iso8601: fields[3].trimmingSpaces()) else {
                return .failure(RowError(description: "expires_at '\(fields[3].prefix(40))' is not an RFC 3339 time"))
            }
            expires = WallClock.iso8601(milliseconds: ms)
        }
        return .success(SuppressionEntry(address: address, reason: reason, createdAt: created, expiresAt: expires))
    }

    /// An entry as a CSV line (without the line end).
    public static func row(_ entry: SuppressionEntry) -> String {
        [entry.address, entry.reason.rawValue, entry.createdAt, entry.expiresAt ?? ""].map(quoted).joined(separator: ",")
    }

    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return field }
        return "\"" + field.replacingAll("\"", with: "\"\"") + "\""
    }

    /// RFC 4180 fields of one line (quoted fields may hold commas and doubled quotes).
    static func split(_ line: Substring) -> Result<[String], RowError> {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            if quoted {
                if c == "\"" {
                    quoted = false
                    afterQuote = true
                } else {
                    field.append(c)
                }
            } else if c == "," {
                fields.append(field)
                field = ""
                afterQuote = false
            } else if c == "\"" {
                if afterQuote {
                    field.append("\"")
                    quoted = true
                    afterQuote = false
                } else if field.isEmpty {
                    quoted = true
                } else {
                    return .failure(RowError(description: "a quote inside an unquoted field"))
                }
            } else if c != "\r" {
                if afterQuote { return .failure(RowError(description: "text after a closing quote")) }
                field.append(c)
            }
        }
        if quoted { return .failure(RowError(description: "an unterminated quoted field")) }
        fields.append(field)
        return .success(fields)
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
