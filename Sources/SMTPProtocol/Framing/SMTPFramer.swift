import NIOCore

/// Splits the bytes a client sends into command lines and streaming message content
/// (the shape of nio-imap's `FramingParser`: feed bytes, pull frames). Pure; no I/O.
///
/// ```
/// C: MAIL FROM:<a@example.com>\r\n   → .line("MAIL FROM:<a@example.com>")
/// C: DATA\r\n                        → .line("DATA")       (caller answers 354, sets mode = .data)
/// C: Subject: hi\r\n..dots\r\n       → .dataChunk("Subject: hi\r\n.dots\r\n")
/// C: .\r\n                           → .dataEnd(DataSummary(size: 20))   (mode is .command again)
/// ```
///
/// **Command mode** (RFC 5321 §4.5.3.1.4): lines end at CRLF, or at a bare LF as Postfix
/// accepts; a line of more than ``commandLineLimit`` octets including its terminator yields
/// one ``SMTPFrame/lineTooLong`` and is discarded up to its line end. In `.authResponse`
/// mode (RFC 4954 §4) the limit is ``authResponseLineLimit``.
///
/// **Data mode** (RFC 5321 §4.1.1.4, §4.5.2): content is emitted as it arrives, never
/// collected into one buffer, dot-unstuffed; only `CRLF.CRLF` ends it (the data starts as
/// if after a CRLF). Bare CR and LF never count as line ends and are normalised to CRLF,
/// and NUL is dropped after framing, so `<LF>.<LF>`, `<CR>.<CR>`, `<LF>.<CRLF>`,
/// `<CRLF>.<CR>` or `<CRLF>NUL.<CRLF>` can neither end the data here nor be smuggled to the
/// next hop. After ``SMTPFrame/dataEnd(_:)`` the framer returns to
/// command mode by itself and goes on with any pipelined bytes.
public struct SMTPFramer: Sendable {
    public enum Mode: Hashable, Sendable {
        /// Command lines, at most ``SMTPFramer/commandLineLimit`` octets.
        case command
        /// Lines answering an AUTH `334` challenge, at most ``SMTPFramer/authResponseLineLimit`` octets.
        case authResponse
        /// Message content after `354`.
        case data
    }

    /// Set by the caller between frames: `.data` after sending 354, `.authResponse` after 334.
    public var mode: Mode {
        didSet {
            if self.mode == .data, oldValue != .data {
                self.dataDecoder.reset()
                self.discardingLongLine = false
            }
        }
    }

    /// Maximum command line length including CRLF (default 512, RFC 5321 §4.5.3.1.4).
    public let commandLineLimit: Int
    /// Maximum AUTH response line length including CRLF (default 12288).
    public let authResponseLineLimit: Int

    private var buffer = ByteBuffer()
    /// Bytes after the reader index already searched for LF in command mode.
    private var scannedBytes = 0
    private var discardingLongLine = false
    private var dataDecoder = DataModeDecoder()
    private var dataEndPending = false

    public init(
        commandLineLimit: Int = SMTPLimits.commandLineLength,
        authResponseLineLimit: Int = SMTPLimits.authResponseLineLength
    ) {
        self.mode = .command
        self.commandLineLimit = commandLineLimit
        self.authResponseLineLimit = authResponseLineLimit
    }

    /// Bytes received but not yet returned in a frame.
    ///
    /// The STARTTLS guard (CVE-2011-0411): after the `STARTTLS` line, a non-zero count
    /// means the client pipelined plaintext that must not be executed after the handshake.
    public var bufferedByteCount: Int {
        self.buffer.readableBytes
    }

    /// Whether part of a command or AUTH response line has arrived and is not complete yet
    /// (including a too-long line still being discarded); false in data mode. Meaningful
    /// once ``next()`` has returned `nil`: the session handler times how long a line takes
    /// to complete, whatever the pace of its octets.
    public var hasPartialLine: Bool {
        self.mode != .data && (self.buffer.readableBytes > 0 || self.discardingLongLine)
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: ByteBuffer) {
        if self.buffer.readableBytes == 0 {
            self.buffer = bytes
        } else {
            if self.buffer.readerIndex >= 4096 {
                self.buffer.discardReadBytes()
            }
            self.buffer.writeImmutableBuffer(bytes)
        }
    }

    /// Returns the next frame, or `nil` when more bytes are needed.
    public mutating func next() -> SMTPFrame? {
        switch self.mode {
        case .command:
            return self.nextLine(limit: self.commandLineLimit)
        case .authResponse:
            return self.nextLine(limit: self.authResponseLineLimit)
        case .data:
            return self.nextData()
        }
    }

    private mutating func nextLine(limit: Int) -> SMTPFrame? {
        while true {
            let view = self.buffer.readableBytesView
            if self.discardingLongLine {
                guard let lf = view.firstIndex(of: ASCII.lf) else {
                    self.buffer.moveReaderIndex(forwardBy: view.count)
                    return nil
                }
                self.buffer.moveReaderIndex(forwardBy: lf - view.startIndex + 1)
                self.discardingLongLine = false
                self.scannedBytes = 0
                continue
            }
            guard let lf = view[(view.startIndex + self.scannedBytes)...].firstIndex(of: ASCII.lf) else {
                if view.count >= limit {
                    // Even a line end in the next byte would make the line too long.
                    self.buffer.moveReaderIndex(forwardBy: view.count)
                    self.discardingLongLine = true
                    self.scannedBytes = 0
                    return .lineTooLong
                }
                self.scannedBytes = view.count
                return nil
            }
            let length = lf - view.startIndex + 1
            self.scannedBytes = 0
            guard length <= limit else {
                self.buffer.moveReaderIndex(forwardBy: length)
                return .lineTooLong
            }
            let contentLength = length >= 2 && view[lf - 1] == ASCII.cr ? length - 2 : length - 1
            let line = self.buffer.readSlice(length: contentLength)!
            self.buffer.moveReaderIndex(forwardBy: length - contentLength)
            return .line(line)
        }
    }

    private mutating func nextData() -> SMTPFrame? {
        if self.dataEndPending {
            return self.finishData()
        }
        guard self.buffer.readableBytes > 0 else { return nil }
        let result = self.dataDecoder.decode(self.buffer)
        self.buffer.moveReaderIndex(forwardBy: result.consumed)
        let chunk = result.chunk.flatMap { $0.readableBytes > 0 ? $0 : nil }
        if result.ended {
            guard let chunk else { return self.finishData() }
            self.dataEndPending = true
            return .dataChunk(chunk)
        }
        return chunk.map { .dataChunk($0) }
    }

    private mutating func finishData() -> SMTPFrame {
        self.dataEndPending = false
        let summary = self.dataDecoder.summary
        self.mode = .command
        self.scannedBytes = 0
        return .dataEnd(summary)
    }
}
