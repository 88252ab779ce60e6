/// A header field as tokens that may not be split, rendered with folding.
///
/// RFC 5322 §2.2.3: a field is folded by putting CRLF before whitespace; unfolding removes
/// the CRLF. Tokens are joined by one space, and the fold replaces a space, so the unfolded
/// value is exactly the tokens joined by spaces. Lines stay within 78 octets where the
/// tokens allow (§2.1.1); every token this module makes is short enough to keep them
/// within the 998-octet limit.
struct HeaderField {
    var name: String
    var tokens: [String]

    /// The recommended line length (RFC 5322 §2.1.1), without the CRLF.
    static let foldingLength = 78

    init(_ name: String, _ tokens: [String]) {
        self.name = name
        self.tokens = tokens
    }

    /// An unstructured value split at its spaces: runs of spaces come back as empty tokens,
    /// so they survive the round trip.
    init(_ name: String, unstructured value: String) {
        self.init(name, value.isEmpty ? [] : value.split(separator: " ", omittingEmptySubsequences: false).map(String.init))
    }

    func render(into output: inout [UInt8]) {
        output += name.utf8
        output.append(UInt8(ascii: ":"))
        var lineLength = name.utf8.count + 1
        var lineHasToken = false
        for token in tokens {
            let length = token.utf8.count
            // Never fold before an empty token: that could leave a line of only whitespace,
            // which §3.2.2 forbids.
            if lineHasToken, length > 0, lineLength + 1 + length > Self.foldingLength {
                output += [13, 10]
                lineLength = 0
            }
            output.append(UInt8(ascii: " "))
            output += token.utf8
            lineLength += 1 + length
            lineHasToken = true
        }
        output += [13, 10]
    }
}

/// RFC 2047 encoded words (B encoding) and RFC 5322 quoting.
enum HeaderText {
    /// An encoded word is at most 75 characters (RFC 2047 §2).
    static let encodedWordLength = 75

    /// `text` as encoded words, each at most 75 characters, separated by folding whitespace
    /// (which decoders drop between encoded words, RFC 2047 §6.2). The first word is at most
    /// `firstWordLength`, so it fits after the field name on the first line.
    ///
    /// Words are cut only between characters (grapheme clusters; a cluster too large for one
    /// word between its scalars), so no word holds part of a UTF-8 sequence, and each
    /// ISO-2022-JP word is converted on its own: it starts in ASCII and ends with ESC ( B
    /// (RFC 1468), as RFC 2047 §5 requires of each word. Linear: a chunk holds at most
    /// `capacity` bytes, so re-encoding it as it grows costs a constant per character.
    static func encodedWords(
        _ text: String, _ encoder: TextEncoder, field: String, firstWordLength: Int = encodedWordLength
    ) throws(CompositionError) -> [String] {
        let prefix = "=?\(encoder.mimeName)?B?"
        // Whole base64 groups: 4 characters per 3 bytes; at least one group, whatever a long
        // field name leaves, so any scalar fits.
        func capacity(_ length: Int) -> Int { max(length - prefix.utf8.count - 2, 12) / 4 * 3 }
        var words: [String] = []
        var chunk = ""
        var chunkBytes: [UInt8] = []

        func add(_ piece: String) throws(CompositionError) -> Bool {
            let bytes = try encoder.encode(chunk + piece, field: field)
            if bytes.count <= capacity(words.isEmpty ? firstWordLength : encodedWordLength) {
                chunk += piece
                chunkBytes = bytes
                return true
            }
            if !chunk.isEmpty {
                words.append(prefix + String(decoding: Base64.encode(chunkBytes), as: UTF8.self) + "?=")
                chunk = ""
                chunkBytes = []
                return try add(piece)
            }
            return false
        }

        for character in text {
            if try add(String(character)) { continue }
            for scalar in character.unicodeScalars {
                // A single scalar is at most 4 UTF-8 bytes or 8 ISO-2022-JP bytes: it always fits.
                _ = try add(String(scalar))
            }
        }
        if !chunk.isEmpty {
            words.append(prefix + String(decoding: Base64.encode(chunkBytes), as: UTF8.self) + "?=")
        }
        return words
    }

    /// `text` as an RFC 5322 quoted-string (§3.2.4): DQUOTE and backslash escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            if character == "\"" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result + "\""
    }

    /// RFC 5322 §3.2.3 atext.
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    /// RFC 5322 dot-atom-text, with RFC 6532 §3.2 UTF-8 allowed in atext.
    static func isDotAtom(_ text: Substring) -> Bool {
        !text.isEmpty
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { atom in
                !atom.isEmpty && atom.utf8.allSatisfy { isAtext($0) || $0 >= 0x80 }
            }
    }

    /// A display name as phrase tokens (RFC 5322 §3.2.5): atoms when it is plain ASCII words,
    /// a quoted-string when it holds specials, encoded words when it is not ASCII, could be
    /// mistaken for an encoded word, or is too long to fold. The first token is at most
    /// `firstWordLength`.
    static func phrase(
        _ name: String, _ encoder: TextEncoder, field: String, firstWordLength: Int = encodedWordLength
    ) throws(CompositionError) -> [String] {
        try refuseControls(name, field: field, allowTab: false)
        if name.utf8.allSatisfy({ $0 < 0x80 }) && !name.contains("=?") {
            let words = name.split(separator: " ", omittingEmptySubsequences: false)
            if words.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isAtext) }) && words[0].utf8.count <= firstWordLength
                && words.allSatisfy({ $0.utf8.count <= encodedWordLength })
            {
                return words.map(String.init)
            }
            let quotedName = quoted(name)
            if quotedName.utf8.count <= firstWordLength { return [quotedName] }
        }
        return try encodedWords(name, encoder, field: field, firstWordLength: firstWordLength)
    }

    /// What is left of the first line after `Name: ` (RFC 5322 §2.1.1's 78 octets).
    static func firstLineRoom(after name: String) -> Int {
        HeaderField.foldingLength - name.utf8.count - 2
    }

    /// CR and LF would end the field and start another (header injection); other controls
    /// are not allowed in header text (RFC 5322 §3.2.5, unstructured text is VCHAR and WSP).
    static func refuseControls(_ text: String, field: String, allowTab: Bool) throws(CompositionError) {
        for byte in text.utf8 where byte < 0x20 || byte == 0x7F {
            if byte == 13 || byte == 10 {
                throw CompositionError(field: field, message: "must not contain CR or LF")
            }
            if byte == 9 && allowTab { continue }
            throw CompositionError(field: field, message: "must not contain control characters")
        }
    }
}
