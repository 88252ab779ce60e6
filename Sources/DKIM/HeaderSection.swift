/// One header field of a message (RFC 5322 §2.2), as offsets into the message bytes.
struct HeaderField: Sendable, Equatable {
    /// The first byte of the field name.
    var start: Int
    /// The end of the field name (exclusive), white space before the colon left out.
    var nameEnd: Int
    /// The colon after the name.
    var colon: Int
    /// The end of the field (exclusive): its last line, without that line's CRLF.
    /// Continuation lines, with their CRLFs, lie inside.
    var end: Int
}

/// The header section of a message: its fields in order, and where the body starts.
///
/// Lines end in CRLF. A line starting with SP or HTAB continues the field above (folding,
/// RFC 5322 §2.2.3); the first empty line ends the header section (§2.1). A message with no
/// empty line is all header and has an empty body.
struct HeaderSection: Sendable {
    var fields: [HeaderField]
    /// The offset of the first body byte (the message's length when there is no body).
    var bodyStart: Int

    /// Parses the header section of `message`.
    ///
    /// Throws ``DKIMError/Code/malformedHeader`` for a line without a colon, a
    /// continuation line with no field to continue, an empty field name, or a bare LF:
    /// a header a verifier may split differently cannot be signed meaningfully. The error
    /// gives the line number, never the line (it may hold addresses).
    static func parse(_ message: UnsafeBufferPointer<UInt8>) throws -> HeaderSection {
        var fields: [HeaderField] = []
        fields.reserveCapacity(24)
        let count = message.count
        var index = 0
        var lineNumber = 1
        while index < count {
            if message[index] == ASCII.cr, index + 1 < count, message[index + 1] == ASCII.lf {
                return HeaderSection(fields: fields, bodyStart: index + 2)
            }
            var lineEnd = index
            while lineEnd < count {
                let byte = message[lineEnd]
                if byte == ASCII.cr, lineEnd + 1 < count, message[lineEnd + 1] == ASCII.lf { break }
                if byte == ASCII.lf {
                    throw DKIMError(.malformedHeader, "header line \(lineNumber) ends in a bare LF; lines must end in CRLF (RFC 5322 §2.2)")
                }
                lineEnd += 1
            }
            if ASCII.isWSP(message[index]) {
                guard !fields.isEmpty else {
                    throw DKIMError(
                        .malformedHeader, "header line \(lineNumber) starts with white space but there is no field above it to continue")
                }
                fields[fields.count - 1].end = lineEnd
            } else {
                var colon = index
                while colon < lineEnd, message[colon] != ASCII.colon { colon += 1 }
                guard colon < lineEnd else {
                    throw DKIMError(.malformedHeader, "header line \(lineNumber) has no colon (RFC 5322 §2.2: name \":\" value)")
                }
                var nameEnd = colon
                while nameEnd > index, ASCII.isWSP(message[nameEnd - 1]) { nameEnd -= 1 }
                guard nameEnd > index else {
                    throw DKIMError(.malformedHeader, "header line \(lineNumber) has an empty field name")
                }
                fields.append(HeaderField(start: index, nameEnd: nameEnd, colon: colon, end: lineEnd))
            }
            index = lineEnd + 2
            lineNumber += 1
        }
        return HeaderSection(fields: fields, bodyStart: count)
    }

    /// Whether `field`'s name is `lowercasedName` (ASCII, case-insensitive, RFC 5322 §1.2.2).
    static func field(_ field: HeaderField, of message: UnsafeBufferPointer<UInt8>, isNamed lowercasedName: [UInt8]) -> Bool {
        guard field.nameEnd - field.start == lowercasedName.count else { return false }
        var offset = field.start
        for byte in lowercasedName {
            if ASCII.lowercased(message[offset]) != byte { return false }
            offset += 1
        }
        return true
    }

    /// The fields to sign for an `h=` list, in `h=` order (RFC 6376 §5.4.2): each name in
    /// the list takes the lowest instance of that field not yet taken, so a name listed k
    /// times signs the last k instances from the bottom up. A name with no instance left
    /// signs nothing — which is what makes listing one more `From` than the message has
    /// forbid adding another From later (§8.15).
    func fields(signedBy lowercasedNames: [[UInt8]], in message: UnsafeBufferPointer<UInt8>) -> [HeaderField] {
        var taken = [Bool](repeating: false, count: fields.count)
        var selected: [HeaderField] = []
        selected.reserveCapacity(lowercasedNames.count)
        for name in lowercasedNames {
            var index = fields.count - 1
            while index >= 0 {
                if !taken[index], Self.field(fields[index], of: message, isNamed: name) {
                    taken[index] = true
                    selected.append(fields[index])
                    break
                }
                index -= 1
            }
        }
        return selected
    }

    /// How many fields are named `lowercasedName`.
    func count(of lowercasedName: [UInt8], in message: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 0
        for field in fields where Self.field(field, of: message, isNamed: lowercasedName) {
            count += 1
        }
        return count
    }
}
