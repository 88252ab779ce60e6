/// Text a remote peer chose — an MX server's reply, a reason built around one — made safe
/// to store and to print: every peer is hostile, so its text is bounded before it reaches
/// Redis (an event per recipient, per attempt) and stripped of control characters before it
/// can reach an operator's terminal (`hikyaku queue`, `hikyaku events tail`, logs), where an
/// ESC sequence could rewrite the screen or the terminal's title.
///
/// RFC 5321 §4.2 allows only printable text and HT in a reply (`textstring`), and §4.5.3.1.5
/// limits a reply line to 512 octets; a hostile server sends up to 512 lines of 4 KiB
/// (`SMTPLimits`), which is 2 MiB per reply.
public enum RemoteText {
    /// The most octets of remote text an event stores.
    public static let storedLimit = 512
    /// Ends text that was cut (U+2026, three octets in UTF-8).
    static let ellipsis = "\u{2026}"

    /// `text` without control characters: C0 (HT becomes a space), DEL and C1 — the bytes
    /// terminals act on (ESC, CSI U+009B, OSC U+009D, …). `keepingLineFeeds`: for
    /// multi-line output printed to a terminal.
    public static func sanitized(_ text: String, keepingLineFeeds: Bool = false) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\t" {
                out.append(" ")
            } else if !isControl(scalar) || (keepingLineFeeds && scalar == "\n") {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// `text` with control characters written out visibly (`\u{1B}`), for logs: nothing is
    /// lost to the reader, nothing reaches the terminal that shows them.
    public static func escaped(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// ``sanitized(_:)``, then cut to at most `maxBytes` octets of UTF-8 — between two
    /// Unicode scalars, never inside one's encoding — ending in `…` when something was cut.
    public static func capped(_ text: String, maxBytes: Int = storedLimit) -> String {
        if text.utf8.count <= maxBytes, text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        let clean = sanitized(text)
        if clean.utf8.count <= maxBytes { return clean }
        let room = maxBytes - ellipsis.utf8.count
        guard room > 0 else { return "" }
        var out = String.UnicodeScalarView()
        var used = 0
        for scalar in clean.unicodeScalars {
            let size = UTF8.width(scalar)
            if used + size > room { break }
            out.append(scalar)
            used += size
        }
        return String(out) + ellipsis
    }

    /// JSON text with the C1 controls (`C2 80`–`C2 9F` in UTF-8) inside its strings written
    /// as `\u0080`…`\u009F`: encoders escape C0 (RFC 8259 §7 requires it), not C1, which
    /// terminals act on all the same. Outside strings JSON has only ASCII, so every such
    /// pair is inside one.
    public static func escapingC1(json: some Sequence<UInt8>) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(json.underestimatedCount)
        var afterC2 = false
        for byte in json {
            if afterC2 {
                afterC2 = false
                if (0x80...0x9F).contains(byte) {
                    out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                    continue
                }
                out.append(0xC2)
            }
            if byte == 0xC2 { afterC2 = true } else { out.append(byte) }
        }
        if afterC2 { out.append(0xC2) }
        return out
    }

    /// C0 controls, DEL and the C1 controls (U+0080–U+009F).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
