/// Hides credentials in text bound for logs, errors and the terminal: the password of
/// every URL with user info (`redis://worker:s3cret@host` → `redis://worker:***@host`),
/// and the value after any `password:`/`password=` key (YAML snippets in parse errors).
///
/// Secrets never belong in logs (README, "Security model"): systemd's `ExecStartPre`
/// runs `check-config`, whose output lands in the journal.
public enum CredentialRedaction {
    public static let mask = "***"

    public static func redact(_ text: String) -> String {
        redactPasswordKeys(redactURLs(text))
    }

    /// `scheme://user:password@rest` → `scheme://user:***@rest`; `scheme://password@rest`
    /// (no `:`) → `scheme://***@rest`. The user info runs to the last `@` before the next
    /// blank or quote, so a password holding `/`, `:` or `@` is hidden whole.
    static func redactURLs(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let marker = rest.firstRange(of: "://") {
            out += rest[..<marker.upperBound]
            rest = rest[marker.upperBound...]
            let end = rest.firstIndex(where: { $0.isWhitespace || "\"'<>`".contains($0) }) ?? rest.endIndex
            let authority = rest[..<end]
            guard let at = authority.lastIndex(of: "@") else { continue }
            let userInfo = authority[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                out += userInfo[...colon] + mask
            } else {
                out += mask
            }
            rest = rest[at...]
        }
        return out + rest
    }

    /// `password: x`, `sentinel_password: "x"`, `requirepass=x`, `masterauth: x` → the value masked.
    static func redactPasswordKeys(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let lower = line.lowercased()
            guard let word = ["password", "requirepass", "masterauth"].lazy.compactMap({ lower.firstRange(of: $0) }).first else {
                lines.append(String(line))
                continue
            }
            // The key ends at the first ':' or '=' after the word, with only key characters between.
            let tail = lower[word.upperBound...]
            guard let separator = tail.firstIndex(where: { $0 == ":" || $0 == "=" }),
                tail[..<separator].allSatisfy({ $0.isLetter || $0 == "_" || $0 == " " || $0 == "\"" || $0 == "'" })
            else {
                lines.append(String(line))
                continue
            }
            let kept = lower.distance(from: lower.startIndex, to: separator) + 1
            let value = line.dropFirst(kept)
            lines.append(value.allSatisfy(\.isWhitespace) ? String(line) : String(line.prefix(kept)) + " " + mask)
        }
        return lines.joined(separator: "\n")
    }
}
