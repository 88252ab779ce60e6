import Foundation

/// A daily sending window in a time zone, e.g. 09:00–20:00 Asia/Tokyo: campaign mail is
/// enqueued only while the local time is inside it (a window such as 22:00–06:00 crosses
/// midnight). Daylight-saving changes follow the zone's rules (Foundation's tz database).
public struct SendWindow: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Minutes after local midnight: the window opens at `start` and closes at `end`.
    public var start: Int
    public var end: Int
    public var timeZone: String

    /// Parses `HH:MM-HH:MM` (an en dash is accepted too) in an IANA zone such as `Asia/Tokyo`.
    public init?(parsing text: String, timeZone: String) {
        let parts = text.replacingOccurrences(of: "–", with: "-").split(separator: "-").map(String.init)
        guard parts.count == 2, let start = Self.minutes(parts[0]), let end = Self.minutes(parts[1]), start != end,
            TimeZone(identifier: timeZone) != nil
        else { return nil }
        self.start = start
        self.end = end
        self.timeZone = timeZone
    }

    static func minutes(_ text: String) -> Int? {
        let hm = text.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440
        else { return nil }
        return h * 60 + m
    }

    public var description: String {
        String(format: "%02d:%02d-%02d:%02d %@", start / 60, start % 60, end / 60, end % 60, timeZone)
    }

    private var zone: TimeZone { TimeZone(identifier: timeZone) ?? TimeZone(secondsFromGMT: 0)! }

    /// Minutes after local midnight at `milliseconds` since 1970.
    func localMinute(_ milliseconds: Int64) -> Int {
        let seconds = milliseconds / 1000
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        let local = seconds + offset
        return Int(((local % 86_400) + 86_400) % 86_400 / 60)
    }

    public func isOpen(at milliseconds: Int64) -> Bool {
        let minute = localMinute(milliseconds)
        return start < end ? (minute >= start && minute < end) : (minute >= start || minute < end)
    }

    /// The first moment at or after `milliseconds` when the window is open (to the minute).
    public func nextOpening(after milliseconds: Int64) -> Int64 {
        if isOpen(at: milliseconds) { return milliseconds }
        // Step to the next minute boundary, then by minutes: at most a day and a DST hour.
        var t = (milliseconds / 60_000 + 1) * 60_000
        for _ in 0..<(1441 + 60) {
            if isOpen(at: t) { return t }
            t += 60_000
        }
        return t
    }
}
