import NIOCore

/// Picks `Message-ID` and `X-Loadtest-Seq` out of message content as it streams past
/// (RFC 5322 §2.2: the header section ends at the first empty line; §2.2.3: a line starting
/// with a space or tab continues the field above it, and unfolding removes only the CRLF).
/// Only the header section is looked at, and at most ``fieldLimit`` octets of a field are
/// kept, so memory stays small whatever the message size.
///
/// ```
/// Message-ID:\r\n <a1@relay.test>\r\n   → messageID "<a1@relay.test>"
/// X-Loadtest-Seq: 42\r\n                 → sequence "42"
/// \r\n                                   (end of the header section: scanning stops)
/// ```
/// Content comes from ``SMTPFramer`` data mode, where every line ends in CRLF.
struct HeaderScanner: Sendable {
    /// Octets kept of one (unfolded) field; longer ones are cut.
    static let fieldLimit = 2048

    /// The first `Message-ID` field's value, trimmed.
    private(set) var messageID: String?
    /// The first `X-Loadtest-Seq` field's value, trimmed.
    private(set) var sequence: String?
    /// Whether the header section has ended.
    private(set) var isComplete = false

    private enum Field: Sendable {
        case messageID
        case sequence
    }

    /// The physical line being read (without its line end), at most `fieldLimit` octets.
    private var line: [UInt8] = []
    /// A field of interest being collected (it may continue on the next line).
    private var field: (name: Field, value: [UInt8])?

    init() {}

    /// Reads the next piece of content.
    mutating func feed(_ chunk: ByteBuffer) {
        guard !self.isComplete else { return }
        chunk.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                if byte == UInt8(ascii: "\n") {
                    self.endOfLine()
                    if self.isComplete { return }
                } else if self.line.count < Self.fieldLimit {
                    self.line.append(byte)
                }
            }
        }
    }

    /// The content has ended (a message may have no body and no empty line).
    mutating func finish() {
        if !self.isComplete, !self.line.isEmpty {
            self.endOfLine()
        }
        self.completeField()
        self.isComplete = true
    }

    private mutating func endOfLine() {
        var line = self.line
        self.line.removeAll(keepingCapacity: true)
        if line.last == UInt8(ascii: "\r") {
            line.removeLast()
        }
        if line.isEmpty {
            self.finish()
            return
        }
        if line[0] == UInt8(ascii: " ") || line[0] == UInt8(ascii: "\t") {
            if self.field != nil, self.field!.value.count < Self.fieldLimit {
                self.field!.value.append(contentsOf: line.prefix(Self.fieldLimit - self.field!.value.count))
            }
            return
        }
        self.completeField()
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = line[..<colon]
        let value = Array(line[(colon + 1)...])
        if self.messageID == nil, Self.equalsIgnoringCase(name, "message-id") {
            self.field = (.messageID, value)
        } else if self.sequence == nil, Self.equalsIgnoringCase(name, "x-loadtest-seq") {
            self.field = (.sequence, value)
        }
    }

    private mutating func completeField() {
        guard let (name, value) = self.field else { return }
        self.field = nil
        let text = String(decoding: value, as: UTF8.self).trimmingWhitespace()
        switch name {
        case .messageID: self.messageID = text
        case .sequence: self.sequence = text
        }
    }

    /// Field names are case-insensitive (RFC 5322 §1.2.2); a field name has no spaces
    /// before the colon in anything we generate, but obsolete syntax allows them (§4.5).
    private static func equalsIgnoringCase(_ name: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        var trimmed = name[...]
        while let last = trimmed.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            trimmed.removeLast()
        }
        return lowercase.withUTF8Buffer { expected in
            trimmed.count == expected.count
                && zip(trimmed, expected).allSatisfy { byte, wanted in
                    (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == wanted
                }
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = self.firstIndex(where: { !isBlank($0) }) else { return "" }
        let end = self.lastIndex(where: { !isBlank($0) })!
        return String(self[start...end])
    }
}
