import Foundation

/// The console's languages, and which one a request gets: the `hk_lang` cookie (set by the
/// switch link) first, then the best of `Accept-Language` (RFC 9110 §12.5.4, q-values),
/// then Japanese (the relay's first users read it).
public enum Language: String, Sendable, CaseIterable {
    case ja, en

    /// Cookie, then `Accept-Language`, then ``ja``.
    public static func choose(cookie: String?, acceptLanguage: String?) -> Language {
        if let cookie, let language = Language(rawValue: cookie) { return language }
        guard let acceptLanguage else { return .ja }
        var best: (language: Language, q: Double)? = nil
        for (index, item) in acceptLanguage.split(separator: ",").enumerated() {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased(), !tag.isEmpty else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            guard q > 0, let language = Language(rawValue: primary) else { continue }
            // Equal q: the earlier item wins (the list's order is the browser's preference).
            _ = index
            if best == nil || q > best!.q { best = (language, q) }
        }
        return best?.language ?? .ja
    }

    /// The zone times are shown in when the viewer's own is unknown: JST for Japanese, UTC otherwise.
    public var defaultTimeZone: TimeZone {
        switch self {
        case .ja: TimeZone(identifier: "Asia/Tokyo") ?? TimeZone(secondsFromGMT: 9 * 3600)!
        case .en: TimeZone(identifier: "UTC")!
        }
    }
}

/// Message catalogues: a key → the string in each language. A missing translation falls
/// back to English, then to the key itself (so a gap shows, rather than an empty label).
public struct Localization: Sendable {
    public let language: Language
    public let timeZone: TimeZone

    public init(language: Language, timeZone: TimeZone? = nil) {
        self.language = language
        self.timeZone = timeZone ?? language.defaultTimeZone
    }

    public subscript(_ key: String) -> String {
        let catalogue = language == .ja ? Catalogue.japanese : Catalogue.english
        return catalogue[key] ?? Catalogue.english[key] ?? key
    }

    /// Every key, as a dictionary for templates: `area.thing` as `area_thing` (`{{t.area_thing}}`).
    public var templateStrings: [String: String] {
        let merged = Catalogue.english.merging(language == .ja ? Catalogue.japanese : [:]) { _, ja in ja }
        return Dictionary(uniqueKeysWithValues: merged.map { ($0.key.replacingOccurrences(of: ".", with: "_"), $0.value) })
    }

    /// `2025-01-31 09:05:00` in the viewer's zone, with the zone's abbreviation.
    public func format(milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        let local = seconds + offset
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = local - days * 86_400
        let (y, m, d) = Self.civil(fromDays: days)
        let zone = timeZone.abbreviation(for: Date(timeIntervalSince1970: TimeInterval(seconds))) ?? timeZone.identifier
        return String(
            format: "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", y, m, d, secondOfDay / 3600, secondOfDay % 3600 / 60, secondOfDay % 60)
            + " " + zone
    }

    /// The local hour label (`15時` / `15:00`) of an hour since 1970.
    public func hourLabel(hour: Int64) -> String {
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(hour * 3600))))
        let local = ((hour * 3600 + offset) % 86_400 + 86_400) % 86_400 / 3600
        return language == .ja ? "\(local)時" : String(format: "%02lld:00", local)
    }

    /// Days since 1970 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
