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
        var output: [UInt8] = []
        bytes.withUnsafeBufferPointer { canonicalizer.feed($0, into: &output) }
        canonicalizer.finish(into: &output)
        return output
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
    private var pendingEmptyLines = 0
    private var pendingSpace = false
    private var pendingCR = false
    private var lineHasContent = false

    init() {}

    /// Canonicalizes `input`, appending what is certain so far to `output`.
    mutating func feed(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        for byte in input {
            if pendingCR {
                pendingCR = false
                if byte == ASCII.lf {
                    endLine(into: &output)
                    continue
                }
                content(ASCII.cr, into: &output)
            }
            switch byte {
            case ASCII.cr:
                pendingCR = true
            case ASCII.space, ASCII.tab:
                pendingSpace = true
            default:
                content(byte, into: &output)
            }
        }
    }

    /// Ends the body: a last line without CRLF gets one; trailing empty lines stay dropped.
    mutating func finish(into output: inout [UInt8]) {
        if pendingCR {
            pendingCR = false
            content(ASCII.cr, into: &output)
        }
        pendingSpace = false
        if lineHasContent {
            output.append(ASCII.cr)
            output.append(ASCII.lf)
            lineHasContent = false
        }
        pendingEmptyLines = 0
    }

    @inline(__always)
    private mutating func content(_ byte: UInt8, into output: inout [UInt8]) {
        if pendingEmptyLines > 0 {
            // Empty lines followed by content are not at the end of the body: they stay.
            for _ in 0..<pendingEmptyLines {
                output.append(ASCII.cr)
                output.append(ASCII.lf)
            }
            pendingEmptyLines = 0
        }
        if pendingSpace {
            output.append(ASCII.space)
            pendingSpace = false
        }
        output.append(byte)
        lineHasContent = true
    }

    @inline(__always)
    private mutating func endLine(into output: inout [UInt8]) {
        pendingSpace = false  // WSP at the end of a line is ignored
        if lineHasContent {
            output.append(ASCII.cr)
            output.append(ASCII.lf)
            lineHasContent = false
        } else {
            pendingEmptyLines += 1
        }
    }
}
