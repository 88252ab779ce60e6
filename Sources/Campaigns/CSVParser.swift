/// A streaming CSV parser (RFC 4180: `,` separated, `"` quoted with `""` for a quote, CRLF
/// or LF line ends, line breaks allowed inside quotes) over raw bytes.
///
/// It works on bytes, not characters, which is what makes one parser serve both UTF-8 and
/// CP932: in Windows-31J the trail byte of a double-byte character is 0x40–0xFC, so it is
/// never `"`, `,`, CR or LF, and a field's bytes can be cut out before they are decoded.
///
/// Bounded: a record longer than ``Limits/maxRecordBytes`` or with more than
/// ``Limits/maxFields`` fields is reported (with its line) and skipped up to its end, so a
/// hostile file cannot make the importer hold more than one record.
public struct CSVParser: Sendable {
    public struct Limits: Sendable {
        public var maxRecordBytes: Int
        public var maxFields: Int

        public init(maxRecordBytes: Int = 64 * 1024, maxFields: Int = 200) {
            self.maxRecordBytes = maxRecordBytes
            self.maxFields = maxFields
        }
    }

    /// One record: the fields' bytes, and the line it starts on (1-based).
    public enum Record: Sendable, Equatable {
        case fields(line: Int, [[UInt8]])
        case invalid(line: Int, problem: String)
    }

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted, skipping }

    public let limits: Limits
    private var state = State.fieldStart
    private var fields: [[UInt8]] = []
    private var field: [UInt8] = []
    private var recordBytes = 0
    private var line = 1
    private var recordLine = 1
    private var problem: String?
    private var lastWasCR = false

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Parses `bytes`, appending each complete record to `out`.
    public mutating func feed(_ bytes: some Sequence<UInt8>, into out: inout [Record]) {
        for byte in bytes { step(byte, &out) }
    }

    /// The last record, when the input does not end with a line break.
    public mutating func finish(into out: inout [Record]) {
        switch state {
        case .quoted:
            out.append(.invalid(line: recordLine, problem: "unterminated quoted field"))
        case .skipping:
            if let problem { out.append(.invalid(line: recordLine, problem: problem)) }
        default:
            if !fields.isEmpty || !field.isEmpty { endRecord(&out) }
        }
        reset()
    }

    private mutating func step(_ byte: UInt8, _ out: inout [Record]) {
        let cr = byte == 0x0D
        defer { lastWasCR = cr }
        if byte == 0x0A {
            // CRLF counts once; a lone CR is taken as a line end too (old Mac files).
            if !lastWasCR { line += 1 }
        } else if cr {
            line += 1
        }
        recordBytes += 1
        if state != .skipping, recordBytes > limits.maxRecordBytes {
            skip("record longer than \(limits.maxRecordBytes) bytes")
        }
        switch state {
        case .skipping:
            // Where the bad record ends inside quotes is unknowable: resume at the next line end.
            if byte == 0x0A || cr {
                if let problem { out.append(.invalid(line: recordLine, problem: problem)) }
                reset()
            }
        case .fieldStart:
            if byte == 0x22 {
                state = .quoted
            } else {
                state = .unquoted
                unquoted(byte, &out)
            }
        case .unquoted:
            unquoted(byte, &out)
        case .quoted:
            if byte == 0x22 { state = .quoteInQuoted } else { field.append(byte) }
        case .quoteInQuoted:
            if byte == 0x22 {
                field.append(byte)
                state = .quoted
            } else {
                state = .unquoted
                unquoted(byte, &out)
            }
        }
    }

    private mutating func unquoted(_ byte: UInt8, _ out: inout [Record]) {
        switch byte {
        case 0x2C:
            endField()
            if state != .skipping { state = .fieldStart }
        case 0x0A:
            endRecord(&out)
        case 0x0D:
            if !fields.isEmpty || !field.isEmpty { endRecord(&out) } else { recordBytes = 0 }
        default:
            field.append(byte)
        }
    }

    private mutating func endField() {
        fields.append(field)
        field = []
        if fields.count > limits.maxFields { skip("more than \(limits.maxFields) fields") }
    }

    private mutating func endRecord(_ out: inout [Record]) {
        if state == .skipping { return }
        endField()
        if state == .skipping { return }
        // A blank line is no record.
        if !(fields.count == 1 && fields[0].isEmpty) { out.append(.fields(line: recordLine, fields)) }
        reset()
    }

    private mutating func skip(_ why: String) {
        state = .skipping
        problem = why
        fields = []
        field = []
    }

    private mutating func reset() {
        state = .fieldStart
        fields = []
        field = []
        recordBytes = 0
        problem = nil
        recordLine = line
    }
}
