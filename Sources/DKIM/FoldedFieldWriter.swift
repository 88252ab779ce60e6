/// Writes a header field's text folded so that no line is longer than
/// ``maximumLineLength`` characters before its CRLF (RFC 5322 §2.1.1 asks for at most 78),
/// folding only where the field's grammar allows FWS.
struct FoldedFieldWriter {
    static let maximumLineLength = 76

    private(set) var text: String
    private var lineLength: Int

    /// Starts a field: `name:`.
    init(name: String) {
        text = name + ":"
        lineLength = text.utf8.count
    }

    /// Appends `piece` after a space, or on a new line (CRLF SP) if it does not fit or
    /// `onNewLine` is set.
    mutating func appendSpaced(_ piece: String, onNewLine: Bool = false) {
        let length = piece.utf8.count
        if onNewLine || lineLength + 1 + length > Self.maximumLineLength {
            fold()
            text += piece
            lineLength += length
        } else {
            text += " " + piece
            lineLength += 1 + length
        }
    }

    /// Appends `piece` directly, or on a new line if it does not fit. Only where FWS may
    /// appear: between the names of `h=` (RFC 6376 §3.5 sig-h-tag).
    mutating func appendJoined(_ piece: String) {
        let length = piece.utf8.count
        if lineLength + length > Self.maximumLineLength {
            fold()
        }
        text += piece
        lineLength += length
    }

    /// Appends `value` filling each line, breaking it anywhere: for base64 values, which
    /// may hold FWS between any two characters (RFC 6376 §2.4 base64string).
    mutating func appendBreakable(_ value: String) {
        var rest = Substring(value)
        while !rest.isEmpty {
            let room = Self.maximumLineLength - lineLength
            guard room > 0 else {
                fold()
                continue
            }
            let piece = rest.prefix(room)
            text += piece
            lineLength += piece.utf8.count
            rest = rest.dropFirst(piece.count)
        }
    }

    private mutating func fold() {
        text += "\r\n "
        lineLength = 1
    }
}
