import Foundation

/// A plain-text rendering of HTML, for the text part a campaign without one gets
/// (multipart/alternative, RFC 2046 §5.1.4): block elements become line breaks, links keep
/// their target (`text (https://…)`), scripts, styles and comments disappear, and the
/// common character references are decoded. Deliberately small: not a browser.
public enum HTMLText {
    static let blocks: Set<String> = [
        "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "hr", "section",
    ]

    public static func plain(_ html: String) -> String {
        var out = ""
        var index = html.startIndex
        var pendingHref: String?
        while index < html.endIndex {
            let c = html[index]
            if c == "<" {
                if html[index...].hasPrefix("<!--") {
                    index = html[index...].firstRange(of: "-->")?.upperBound ?? html.endIndex
                    continue
                }
                guard let close = html[index...].firstIndex(of: ">") else { break }
                let tag = html[html.index(after: index)..<close]
                let closing = tag.hasPrefix("/")
                let bare = (closing ? tag.dropFirst() : tag[...]).prefix { $0.isLetter || $0.isNumber }.lowercased()
                index = html.index(after: close)
                if bare == "script" || bare == "style", !closing {
                    index = html[index...].range(of: "</\(bare)", options: [.caseInsensitive])?.lowerBound ?? html.endIndex
                    continue
                }
                if bare == "a", !closing {
                    pendingHref = attribute("href", in: String(tag))
                } else if bare == "a", let href = pendingHref {
                    if !href.hasPrefix("mailto:") { out += " (\(href))" }
                    pendingHref = nil
                } else if blocks.contains(bare) {
                    if !out.hasSuffix("\n") { out += "\n" }
                    if bare == "p" || bare.hasPrefix("h"), closing, !out.hasSuffix("\n\n") { out += "\n" }
                    if bare == "li", !closing { out += "- " }
                }
                continue
            }
            if c.isWhitespace {
                if !(out.last?.isWhitespace ?? true) { out += " " }
            } else if c == "&", let semicolon = html[index...].prefix(10).firstIndex(of: ";") {
                let entity = String(html[html.index(after: index)..<semicolon])
                if let decoded = decode(entity) {
                    out += decoded
                    index = html.index(after: semicolon)
                    continue
                }
                out.append(c)
            } else {
                out.append(c)
            }
            index = html.index(after: index)
        }
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimming(" \t") }
        var collapsed: [String] = []
        for line in lines where !(line.isEmpty && (collapsed.last?.isEmpty ?? true)) { collapsed.append(line) }
        while collapsed.last?.isEmpty == true { collapsed.removeLast() }
        return collapsed.joined(separator: "\n") + "\n"
    }

    static func attribute(_ name: String, in tag: String) -> String? {
        guard let range = tag.range(of: name + "=", options: [.caseInsensitive]) else { return nil }
        var rest = tag[range.upperBound...]
        if let quote = rest.first, quote == "\"" || quote == "'" {
            rest = rest.dropFirst()
            return String(rest.prefix { $0 != quote })
        }
        return String(rest.prefix { !$0.isWhitespace && $0 != ">" })
    }

    static func decode(_ entity: String) -> String? {
        switch entity {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos", "#39": return "'"
        case "nbsp": return " "
        case "copy": return "©"
        case "yen": return "¥"
        default:
            if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let v = UInt32(entity.dropFirst(2), radix: 16), let s = Unicode.Scalar(v) {
                return String(Character(s))
            }
            if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let s = Unicode.Scalar(v) { return String(Character(s)) }
            return nil
        }
    }
}
