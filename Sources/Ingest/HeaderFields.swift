import NIOCore

/// Header fields of a message's header section, found on the raw bytes.
enum HeaderFields {
    /// The unfolded values (RFC 5322 §2.2.3) of every field whose name is in `names`
    /// (lower case), by name, in order of appearance.
    ///
    /// The name is what precedes the first colon, white space before the colon removed:
    /// RFC 5322 §4.5 (obsolete syntax, which receivers still parse) allows `From :`, and a
    /// colon folded onto the next line (`From\r\n :`) unfolds to the same. A continuation
    /// line at the very start belongs to the field before it — the relay's own
    /// `Received:` — and is part of no field here.
    static func values(named names: Set<String>, in header: ByteBufferView.SubSequence) -> [String: [String]] {
        var found: [String: [String]] = [:]
        var field: [UInt8] = []
        func finish() {
            defer { field.removeAll(keepingCapacity: true) }
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else { return }
            var nameEnd = colon
            while nameEnd > 0, field[nameEnd - 1] == 32 || field[nameEnd - 1] == 9 { nameEnd -= 1 }
            let name = String(decoding: field[..<nameEnd].map(lowercase), as: UTF8.self)
            guard names.contains(name) else { return }
            let value = String(decoding: field[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: " \t")
            found[name, default: []].append(value)
        }
        var lineStart = header.startIndex
        while lineStart < header.endIndex {
            let lineEnd = header[lineStart...].firstIndex(of: 10) ?? header.endIndex
            let line = header[lineStart..<lineEnd].filter { $0 != 13 }
            if let first = line.first, first == 32 || first == 9 {
                if !field.isEmpty { field += line }
            } else {
                finish()
                field = Array(line)
            }
            lineStart = lineEnd + 1
        }
        finish()
        return found
    }

    private static func lowercase(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }
}
