/// A MIME entity read leniently from hostile bytes (RFC 2045, RFC 2046): header fields,
/// content type, decoded body, and sub-parts. It never fails: a missing boundary leaves a
/// multipart as one text body, bad encodings decode as far as they go, and the limits
/// below bound the work whatever the input.
struct MIMEEntity {
    var header: MIMEHeader
    /// `type/subtype`, lower-cased; `text/plain` when absent or unreadable (RFC 2045 §5.2).
    var contentType: String
    var parameters: [String: String]
    /// The body after Content-Transfer-Encoding is undone (empty for multiparts).
    var body: [UInt8]
    /// Sub-parts of a multipart, or the one enclosed message of `message/rfc822`.
    var parts: [MIMEEntity]

    /// Limits on hostile input: parts in the whole tree, nesting depth, header size.
    enum Limits {
        static let maxParts = 200
        static let maxDepth = 8
        static let maxHeaderBytes = 256 * 1024
        static let maxFields = 1000
    }

    init(parsing bytes: ArraySlice<UInt8>) {
        var budget = Limits.maxParts
        self.init(parsing: bytes, depth: 0, budget: &budget)
    }

    private init(parsing bytes: ArraySlice<UInt8>, depth: Int, budget: inout Int) {
        let (headerBytes, bodyBytes) = Self.split(bytes)
        header = MIMEHeader(parsing: headerBytes)
        let (type, parameters) = MIMEHeader.contentType(header.value("content-type"))
        contentType = type
        self.parameters = parameters
        parts = []
        body = []
        let encoding = header.value("content-transfer-encoding")?.trimmed.lowercased() ?? ""
        if type.hasPrefix("multipart/"), let boundary = parameters["boundary"], !boundary.isEmpty, depth < Limits.maxDepth {
            let pieces = Self.multipartBodies(bodyBytes, boundary: Array(boundary.utf8))
            if pieces.isEmpty {
                // No delimiter: read it as the text it probably is.
                body = Array(bodyBytes)
                contentType = "text/plain"
            }
            for piece in pieces {
                guard budget > 0 else { break }
                budget -= 1
                parts.append(MIMEEntity(parsing: piece, depth: depth + 1, budget: &budget))
            }
        } else if type == "message/rfc822" || type == "message/global", depth < Limits.maxDepth, budget > 0 {
            budget -= 1
            let inner = TransferEncoding.decode(bodyBytes, encoding: encoding)
            parts = [MIMEEntity(parsing: inner[...], depth: depth + 1, budget: &budget)]
            body = inner
        } else {
            body = TransferEncoding.decode(bodyBytes, encoding: encoding)
        }
    }

    /// The header section and the body: split at the first empty line (CRLF CRLF or LF LF);
    /// a message without one is all header when it looks like fields, else all body.
    static func split(_ bytes: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        var index = bytes.startIndex
        // An empty first line means no header at all.
        if index < bytes.endIndex, bytes[index] == 0x0A { return (bytes[index..<index], bytes[(index + 1)...]) }
        if index + 1 < bytes.endIndex, bytes[index] == 0x0D, bytes[index + 1] == 0x0A {
            return (bytes[index..<index], bytes[(index + 2)...])
        }
        let limit = min(bytes.endIndex, bytes.startIndex + Limits.maxHeaderBytes)
        while index < limit {
            if bytes[index] == 0x0A {
                var next = index + 1
                if next < bytes.endIndex, bytes[next] == 0x0D { next += 1 }
                if next < bytes.endIndex, bytes[next] == 0x0A { return (bytes[bytes.startIndex..<index], bytes[(next + 1)...]) }
                if next >= bytes.endIndex { return (bytes[bytes.startIndex..<index], bytes[bytes.endIndex...]) }
            }
            index += 1
        }
        if index >= bytes.endIndex { return (bytes, bytes[bytes.endIndex...]) }
        // A header section over the limit: what is past it is read as body.
        return (bytes[bytes.startIndex..<index], bytes[index...])
    }

    /// The bodies between `--boundary` delimiter lines (RFC 2046 §5.1.1), without the
    /// preamble and epilogue; a missing close delimiter ends the last part at the end.
    static func multipartBodies(_ bytes: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        var pieces: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = bytes.startIndex
        while lineStart < bytes.endIndex {
            var lineEnd = lineStart
            while lineEnd < bytes.endIndex, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            if isDelimiter(bytes, lineStart, lineEnd, boundary) {
                // The CRLF before the delimiter belongs to the delimiter.
                if let start = partStart {
                    var end = lineStart
                    if end > start, bytes[end - 1] == 0x0A { end -= 1 }
                    if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                    pieces.append(bytes[start..<max(start, end)])
                    if pieces.count >= Limits.maxParts { return pieces }
                }
                let afterBoundary = lineStart + 2 + boundary.count
                if afterBoundary + 1 < lineEnd, bytes[afterBoundary] == 0x2D,
                    bytes[afterBoundary + 1] == 0x2D
                {
                    return pieces
                }
                partStart = min(lineEnd + 1, bytes.endIndex)
            }
            lineStart = lineEnd + 1
        }
        if let start = partStart, start < bytes.endIndex { pieces.append(bytes[start..<bytes.endIndex]) }
        return pieces
    }

    private static func isDelimiter(_ bytes: ArraySlice<UInt8>, _ start: Int, _ end: Int, _ boundary: [UInt8]) -> Bool {
        guard end - start >= boundary.count + 2, bytes[start] == 0x2D, bytes[start + 1] == 0x2D else { return false }
        for (offset, byte) in boundary.enumerated() where bytes[start + 2 + offset] != byte { return false }
        // After the boundary: optional "--", then only white space (transport padding).
        var index = start + 2 + boundary.count
        if index + 1 < end, bytes[index] == 0x2D, bytes[index + 1] == 0x2D { index += 2 }
        while index < end {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0D else { return false }
            index += 1
        }
        return true
    }

    /// Every entity of the tree, depth first (this one first).
    var all: [MIMEEntity] {
        var result: [MIMEEntity] = [self]
        for part in parts { result += part.all }
        return result
    }

    /// The body as text: UTF-8 where valid, else each byte as Latin-1 (ISO-8859-1 and
    /// Windows-1252 text, and 8-bit junk, read without loss of the ASCII in it).
    var text: String { TransferEncoding.text(body, charset: parameters["charset"]) }

    var isText: Bool { contentType.hasPrefix("text/") }
}
