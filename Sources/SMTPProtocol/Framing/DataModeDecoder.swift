import NIOCore

/// The streaming decoder behind ``SMTPFramer``'s data mode (RFC 5321 §4.1.1.4, §4.5.2).
///
/// - Only `CRLF "." CRLF` ends the data; the start of the data counts as a line start, so
///   `.CRLF` right after the 354 is an empty message.
/// - A line (after a real CRLF) starting with `.` loses that dot.
/// - Bare CR and bare LF are never line ends for these two rules, and are written as CRLF.
/// - NUL is an ordinary octet for these rules (so `CRLF NUL "." CRLF` does not end the
///   data) and is then dropped, so that a receiver that ignores NUL cannot read an end of
///   data into what we pass on (SMTP smuggling; see ``DataSummary/nulBytesRemoved``).
///
/// Nothing is held back as bytes: the pending `.` or `.CR` at a line start is remembered
/// in ``state`` (neither is ever emitted as such), and a CR is emitted at once because it
/// becomes CRLF whatever follows it.
struct DataModeDecoder: Sendable {
    enum State: Sendable {
        /// After a real CRLF (or at the start of the data).
        case lineStart
        /// Inside a line.
        case middle
        /// After a CR (already emitted) inside a line or on an empty line.
        case middleCR
        /// After `CRLF "."`: the dot is dropped whatever follows.
        case lineStartDot
        /// After `CRLF "." CR`: an LF ends the data.
        case dotCR
    }

    struct Result {
        /// The decoded content, or `nil` when this input produced none.
        var chunk: ByteBuffer?
        /// Input bytes consumed (all of them, or up to and including the final LF).
        var consumed: Int
        /// Whether the end-of-data sequence was read.
        var ended: Bool
    }

    private(set) var state: State = .lineStart
    private(set) var summary = DataSummary()

    /// Decodes the readable bytes of `input` (which is not modified).
    mutating func decode(_ input: ByteBuffer) -> Result {
        var state = self.state
        var bareLineEndings = 0
        var nulBytes = 0
        var output: ByteBuffer?
        var ended = false
        var consumed = 0

        input.withUnsafeReadableBytes { bytes in
            var runStart = 0

            /// Emits input bytes runStart..<end unchanged.
            func flush(to end: Int) {
                guard end > runStart else { return }
                if output == nil {
                    // Zero-copy: the first run is a slice of the input.
                    output = input.getSlice(at: input.readerIndex + runStart, length: end - runStart)
                } else {
                    output!.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<end]))
                }
            }

            func insert(_ inserted: StaticString) {
                if output == nil {
                    output = ByteBuffer()
                    output!.reserveCapacity(bytes.count + 2)
                }
                output!.writeStaticString(inserted)
            }

            /// A byte inside a line (or one that starts a line without a dot).
            func middle(_ byte: UInt8, at index: Int) {
                switch byte {
                case ASCII.cr:
                    state = .middleCR
                case ASCII.lf:
                    // Bare LF: write CRLF instead; not a line end for the rules above.
                    flush(to: index)
                    insert("\r")
                    runStart = index
                    bareLineEndings += 1
                    state = .middle
                case ASCII.nul:
                    // Counts as content for the line rules, but is not written.
                    flush(to: index)
                    runStart = index + 1
                    nulBytes += 1
                    state = .middle
                default:
                    state = .middle
                }
            }

            var index = 0
            let count = bytes.count
            scan: while index < count {
                let byte = bytes[index]
                switch state {
                case .middle:
                    // Fast path: skip ordinary bytes.
                    if byte != ASCII.cr, byte != ASCII.lf, byte != ASCII.nul {
                        break
                    }
                    middle(byte, at: index)
                case .lineStart:
                    if byte == ASCII.dot {
                        flush(to: index)
                        runStart = index + 1
                        state = .lineStartDot
                    } else {
                        middle(byte, at: index)
                    }
                case .middleCR:
                    if byte == ASCII.lf {
                        state = .lineStart
                    } else {
                        // Bare CR (already emitted): complete it to CRLF.
                        flush(to: index)
                        insert("\n")
                        runStart = index
                        bareLineEndings += 1
                        middle(byte, at: index)
                    }
                case .lineStartDot:
                    if byte == ASCII.cr {
                        runStart = index + 1
                        state = .dotCR
                    } else {
                        middle(byte, at: index)
                    }
                case .dotCR:
                    if byte == ASCII.lf {
                        consumed = index + 1
                        ended = true
                        break scan
                    }
                    // `CRLF "." CR x`: the CR was bare; the dot stays dropped.
                    insert("\r\n")
                    runStart = index
                    bareLineEndings += 1
                    middle(byte, at: index)
                }
                index += 1
            }
            if !ended {
                flush(to: count)
                consumed = count
            }
        }

        if ended {
            self.state = .lineStart
        } else {
            self.state = state
        }
        self.summary.size += output?.readableBytes ?? 0
        self.summary.bareLineEndingsNormalized += bareLineEndings
        self.summary.nulBytesRemoved += nulBytes
        return Result(chunk: output, consumed: consumed, ended: ended)
    }

    /// Starts a new message.
    mutating func reset() {
        self.state = .lineStart
        self.summary = DataSummary()
    }
}
