/// The "relaxed" canonicalizations of RFC 6376 §3.4.2 (header) and §3.4.4 (body), which
/// survive the white-space rewriting and re-folding that mail servers commonly do.
enum RelaxedCanonicalization {
    /// Appends the relaxed form of one header field (RFC 6376 §3.4.2), steps in order:
    ///
    /// 1. the field name in lower case;
    /// 2. continuation lines unfolded (the CRLF before each removed);
    /// 3. every run of WSP, including those around a fold, as one SP;
    /// 4. WSP at the end of the value deleted;
    /// 5. WSP before and after the colon deleted, the colon kept.
    ///
    /// `terminated` appends the field's CRLF; the DKIM-Signature field itself is hashed
    /// without it (§3.7).
    static func appendHeaderField(
        _ field: HeaderField, of message: UnsafeBufferPointer<UInt8>, to output: inout [UInt8], terminated: Bool
    ) {
        for offset in field.start..<field.nameEnd {
            output.append(ASCII.lowercased(message[offset]))
        }
        output.append(ASCII.colon)
        var pendingSpace = false
        var started = false  // WSP before the first value byte is dropped (step 5)
        var offset = field.colon + 1
        while offset < field.end {
            let byte = message[offset]
            if byte == ASCII.cr, offset + 1 < field.end, message[offset + 1] == ASCII.lf {
                offset += 2  // unfold; the WSP that starts the next line joins the current run
                continue
            }
            if ASCII.isWSP(byte) {
                pendingSpace = started
            } else {
                if pendingSpace {
                    output.append(ASCII.space)
                    pendingSpace = false
                }
                output.append(byte)
                started = true
            }
            offset += 1
        }
        // A WSP run still pending here is trailing WSP: deleted (step 4).
        if terminated {
            output.append(ASCII.cr)
            output.append(ASCII.lf)
        }
    }

    /// The relaxed canonical form of a whole header section (every field, in order).
    static func header(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { message in
            let section = try HeaderSection.parse(message)
            var output: [UInt8] = []
            for field in section.fields {
                appendHeaderField(field, of: message, to: &output, terminated: true)
            }
            return output
        }
    }

    /// The relaxed canonical form of a whole body.
    static func body(_ bytes: [UInt8]) -> [UInt8] {
        var canonicalizer = RelaxedBodyCanonicalizer()
        var output = CollectedBytes()
        bytes.withUnsafeBufferPointer { canonicalizer.feed($0, into: &output) }
        canonicalizer.finish(into: &output)
        return output.bytes
    }
}

/// Where canonical bytes go: the body hash, or an array in tests.
protocol CanonicalSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer)
}

/// Collects canonical bytes in an array.
struct CollectedBytes: CanonicalSink {
    var bytes: [UInt8] = []

    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        self.bytes.append(contentsOf: bytes)
    }
}

extension SHA256Hasher: CanonicalSink {
    func write(_ bytes: UnsafeRawBufferPointer) {
        update(bytes)
    }
}

/// The relaxed body canonicalization (RFC 6376 §3.4.4) as a streaming transducer: feed the
/// body in chunks of any size, get canonical bytes out, with no copy of the whole body.
///
/// §3.4.4 says, in order:
///
/// a. Ignore all whitespace at the end of lines (keeping the CRLF), and reduce every
///    sequence of WSP within a line to a single SP.
/// b. Ignore all empty lines at the end of the body ("empty" as in §3.4.3: zero length
///    once the line terminator is removed — so, after (a), a line of only WSP too). If the
///    body is non-empty but does not end with a CRLF, a CRLF is added.
///
/// Unlike "simple" (§3.4.3), which turns an empty body into a single CRLF, relaxed adds a
/// CRLF only to a *non-empty* body: an empty body — or one of nothing but empty lines —
/// canonicalizes to zero bytes, whose SHA-256 is `47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=`.
///
/// Trailing empty lines cannot be dropped until it is known nothing follows them, so they
/// are counted and written out only when a later line has content. A CR is held until the
/// next byte shows whether it ends a line; a bare CR or bare LF is an ordinary character.
struct RelaxedBodyCanonicalizer: Sendable {
    /// Canonical bytes are gathered in a stack buffer of this size and handed to the sink
    /// when it fills, not byte by byte: per-byte appends to an array cost more than the
    /// SHA-256 of those bytes.
    static let bufferSize = 4096

    private var pendingEmptyLines = 0
    private var pendingSpace = false
    private var pendingCR = false
    private var lineHasContent = false

    init() {}

    /// Canonicalizes `input`, writing what is certain so far to `sink`.
    mutating func feed<Sink: CanonicalSink>(_ input: UnsafeBufferPointer<UInt8>, into sink: inout Sink) {
        run(input, final: false, into: &sink)
    }

    /// Ends the body: a last line without CRLF gets one; trailing empty lines stay dropped.
    /// The canonicalizer is then ready for a new body.
    mutating func finish<Sink: CanonicalSink>(into sink: inout Sink) {
        run(UnsafeBufferPointer(start: nil, count: 0), final: true, into: &sink)
    }

    private mutating func run<Sink: CanonicalSink>(_ input: UnsafeBufferPointer<UInt8>, final: Bool, into sink: inout Sink) {
        // Written as one flat loop over locals, with the buffer indexed directly: nested
        // helper functions capturing this state made it several times slower.
        var pendingEmptyLines = self.pendingEmptyLines
        var pendingSpace = self.pendingSpace
        var pendingCR = self.pendingCR
        var lineHasContent = self.lineHasContent
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.bufferSize) { buffer in
            let output = buffer.baseAddress!
            // The buffer is flushed whenever it holds more than this, before any write of
            // up to 2 bytes; one step writes at most two such pieces, then flushes again
            // if needed, so it never overruns the buffer.
            let flushThreshold = buffer.count - 8
            var count = 0

            for byte in input {
                if count > flushThreshold {
                    sink.write(UnsafeRawBufferPointer(start: output, count: count))
                    count = 0
                }
                if pendingCR {
                    pendingCR = false
                    if byte == ASCII.lf {
                        // End of line. WSP before it is ignored; an empty line is held back
                        // until something follows it.
                        pendingSpace = false
                        if lineHasContent {
                            output[count] = ASCII.cr
                            output[count + 1] = ASCII.lf
                            count += 2
                            lineHasContent = false
                        } else {
                            pendingEmptyLines += 1
                        }
                        continue
                    }
                    // A CR not followed by LF is an ordinary character.
                    Self.writeContent(ASCII.cr, output, &count, flushThreshold, &pendingEmptyLines, &pendingSpace, &sink)
                    lineHasContent = true
                }
                if byte == ASCII.cr {
                    pendingCR = true
                } else if ASCII.isWSP(byte) {
                    pendingSpace = true
                } else {
                    Self.writeContent(byte, output, &count, flushThreshold, &pendingEmptyLines, &pendingSpace, &sink)
                    lineHasContent = true
                }
            }
            if final {
                if count > flushThreshold {
                    sink.write(UnsafeRawBufferPointer(start: output, count: count))
                    count = 0
                }
                if pendingCR {  // a CR at the very end is a bare CR too
                    Self.writeContent(ASCII.cr, output, &count, flushThreshold, &pendingEmptyLines, &pendingSpace, &sink)
                    lineHasContent = true
                }
                // A non-empty body not ending in CRLF gets one; trailing empty lines and
                // trailing WSP stay dropped.
                if lineHasContent {
                    output[count] = ASCII.cr
                    output[count + 1] = ASCII.lf
                    count += 2
                }
                pendingEmptyLines = 0
                pendingSpace = false
                pendingCR = false
                lineHasContent = false
            }
            if count > 0 {
                sink.write(UnsafeRawBufferPointer(start: output, count: count))
            }
        }
        self.pendingEmptyLines = pendingEmptyLines
        self.pendingSpace = pendingSpace
        self.pendingCR = pendingCR
        self.lineHasContent = lineHasContent
    }

    /// Writes a content byte: first the empty lines held back before it (they are not at
    /// the end of the body, so they stay), then the SP a WSP run before it reduces to.
    @inline(__always)
    private static func writeContent<Sink: CanonicalSink>(
        _ byte: UInt8, _ output: UnsafeMutablePointer<UInt8>, _ count: inout Int, _ flushThreshold: Int,
        _ pendingEmptyLines: inout Int, _ pendingSpace: inout Bool, _ sink: inout Sink
    ) {
        while pendingEmptyLines > 0 {
            if count > flushThreshold {
                sink.write(UnsafeRawBufferPointer(start: output, count: count))
                count = 0
            }
            output[count] = ASCII.cr
            output[count + 1] = ASCII.lf
            count += 2
            pendingEmptyLines -= 1
        }
        if count > flushThreshold {
            sink.write(UnsafeRawBufferPointer(start: output, count: count))
            count = 0
        }
        if pendingSpace {
            output[count] = ASCII.space
            count += 1
            pendingSpace = false
        }
        output[count] = byte
        count += 1
    }
}
