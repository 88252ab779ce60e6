extension MIMEPart {
    /// An attachment, base64 in 76-character lines (RFC 2045 §6.8).
    ///
    /// The filename goes in Content-Disposition (RFC 2183): a quoted-string when it is short
    /// printable ASCII, else RFC 2231 percent-encoded UTF-8 (`filename*=UTF-8''…`, split in
    /// numbered continuations when long). Content-Type also carries `name=`, RFC 2047 encoded
    /// for clients that predate RFC 2231 (the common practice, though §5 of RFC 2047 does not
    /// sanction encoded words in quoted strings).
    static func attachment(_ attachment: Attachment, index: Int) throws(CompositionError) -> MIMEPart {
        let field = "attachments[\(index)]"
        try Validation.contentType(attachment.contentType, field: "\(field).contentType")
        let filename = attachment.filename
        guard !filename.isEmpty else { throw CompositionError(field: "\(field).filename", message: "must not be empty") }
        try HeaderText.refuseControls(filename, field: "\(field).filename", allowTab: false)

        let nameTokens: [String]
        let filenameTokens: [String]
        let quotedName = HeaderText.quoted(filename)
        if filename.utf8.allSatisfy({ $0 < 0x80 }) && !filename.contains("=?") && quotedName.utf8.count <= 60 {
            nameTokens = ["name=\(quotedName)"]
            filenameTokens = ["filename=\(quotedName)"]
        } else {
            // Room for ` name="` before the first word and `"` after the last (78 octets a line).
            var words = try HeaderText.encodedWords(filename, TextEncoder(.utf8), field: "\(field).filename", firstWordLength: 70)
            words[0] = "name=\"" + words[0]
            words[words.count - 1] += "\""
            nameTokens = words
            filenameTokens = rfc2231(filename)
        }
        let disposition = attachment.contentID == nil ? "attachment" : "inline"
        var fields = [
            HeaderField("Content-Type", ["\(attachment.contentType);"] + nameTokens),
            HeaderField("Content-Disposition", ["\(disposition);"] + filenameTokens),
            HeaderField("Content-Transfer-Encoding", ["base64"]),
        ]
        if let contentID = attachment.contentID {
            try Validation.identifier(contentID, field: "\(field).contentID")
            fields.append(HeaderField("Content-ID", ["<\(contentID)>"]))
        }
        return MIMEPart(fields: fields, body: .bytes(Base64.bodyLines(attachment.content)))
    }

    /// RFC 2231 §3-4 `filename*` parameters: UTF-8, percent-encoded except attribute-chars
    /// (RFC 5987 attr-char), split between Unicode scalars (never inside a UTF-8 sequence) into segments of at most 60 characters.
    static func rfc2231(_ value: String) -> [String] {
        var segments: [String] = []
        var segment = ""
        for scalar in value.unicodeScalars {
            var encoded = ""
            for byte in String(scalar).utf8 {
                if byte < 0x80 && (HeaderText.isAtext(byte) || byte == UInt8(ascii: ".")) && !"*'%={}/?".utf8.contains(byte) {
                    encoded.append(Character(Unicode.Scalar(byte)))
                } else {
                    encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
                }
            }
            if !segment.isEmpty && segment.utf8.count + encoded.utf8.count > 60 {
                segments.append(segment)
                segment = ""
            }
            segment += encoded
        }
        segments.append(segment)
        if segments.count == 1 { return ["filename*=UTF-8''\(segments[0])"] }
        return segments.enumerated().map { number, text in
            let name = number == 0 ? "filename*0*=UTF-8''" : "filename*\(number)*="
            return name + text + (number == segments.count - 1 ? "" : ";")
        }
    }
}
