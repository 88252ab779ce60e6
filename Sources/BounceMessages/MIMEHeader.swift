/// Header fields in order, unfolded (RFC 5322 §2.2.3), names as written.
struct MIMEHeader {
    var fields: [(name: String, value: String)] = []

    init() {}

    init(parsing bytes: ArraySlice<UInt8>) {
        let text = TransferEncoding.text(Array(bytes.prefix(MIMEEntity.Limits.maxHeaderBytes)), charset: nil)
        var name: String?
        var value = ""
        func flush() {
            if let name, fields.count < MIMEEntity.Limits.maxFields { fields.append((name, value.trimmed)) }
        }
        for line in text.lines where !line.isEmpty {
            if let first = line.first, first == " " || first == "\t" {
                // A continuation line; one with no field before it is dropped.
                if name != nil, value.utf8.count < 16 * 1024 { value += " " + line.trimmed }
                continue
            }
            flush()
            name = nil
            guard let colon = line.firstIndex(of: ":") else { continue }
            let fieldName = line[..<colon].trimming(" \t")
            guard !fieldName.isEmpty, !fieldName.has(" ") else { continue }
            name = fieldName
            value = String(line[line.index(after: colon)...])
        }
        flush()
    }

    /// The first field of that name (case-insensitive).
    func value(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name }?.value
    }

    func values(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name }.map(\.value)
    }

    /// `type/subtype` (lower-cased) and parameters (names lower-cased, values unquoted) of
    /// a Content-Type value (RFC 2045 §5.1); `text/plain` when absent or malformed.
    static func contentType(_ value: String?) -> (String, [String: String]) {
        guard let value else { return ("text/plain", [:]) }
        let pieces = splitParameters(value)
        let type = (pieces.first ?? "").trimmed.lowercased()
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmed.lowercased()
            var text = piece[piece.index(after: equals)...].trimmed
            if text.hasPrefix("\""), text.count >= 2 {
                text = String(text.dropFirst())
                if text.hasSuffix("\"") { text = String(text.dropLast()) }
                text = text.replacingBackslashEscapes()
            }
            if parameters[name] == nil { parameters[name] = text }
        }
        let valid = type.split(separator: "/").count == 2 && !type.has(" ")
        return (valid ? type : "text/plain", parameters)
    }

    /// Splits at `;` outside quoted strings.
    private static func splitParameters(_ value: String) -> [Substring] {
        var result: [Substring] = []
        var start = value.startIndex
        var quoted = false
        var index = value.startIndex
        while index < value.endIndex {
            let character = value[index]
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                result.append(value[start..<index])
                start = value.index(after: index)
            }
            index = value.index(after: index)
        }
        result.append(value[start...])
        return result
    }
}

extension StringProtocol {
    var trimmed: String { trimming(" \t\r\n") }

    func trimming(_ set: String) -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, set.unicodeScalars.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, set.unicodeScalars.contains(last) { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    func replacingBackslashEscapes() -> String {
        var result = ""
        var escaped = false
        for character in self {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
