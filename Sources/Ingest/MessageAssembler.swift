import NIOCore
import RelayCore
import SMTPProtocol

/// Builds the message as the relay stores and forwards it, while DATA streams in:
/// the relay's `Received:` header first (RFC 5321 §4.4), then a `Message-ID:` if the client's
/// header section has none (RFC 5322 §3.6.4 says it SHOULD be present; receivers such as
/// Gmail reject mail without it), then the client's data unchanged.
///
/// Only the header section is held to look for `Message-ID:` (up to `maxHeaderScan`
/// octets); after it, data passes through in chunks the caller may flush to Redis, so a
/// 30 MB message never needs a 30 MB buffer.
struct MessageAssembler {
    /// How much header we are willing to hold while looking for `Message-ID:`.
    static let maxHeaderScan = 256 * 1024

    private enum Phase { case headers, body }
    private var phase = Phase.headers
    /// Bytes ready to store (prefix, then data).
    private(set) var pending: ByteBuffer
    /// Where the client's data begins inside `pending` while scanning headers.
    private var headerStart: Int
    private let generatedMessageID: String
    /// The `Message-ID:` found in the header, or the one generated.
    private(set) var messageID: String?
    /// Whether to read the author fields too (an account that may send only as its own
    /// domains, or a DKIM signature), and those fields once the header section was read.
    private let wantsFrom: Bool
    private(set) var authors = AuthorFields()
    /// The `Received:` fields of the client's header section (the relay's own not counted),
    /// once it was read: RFC 5321 §6.3 loop detection.
    private(set) var receivedFieldCount = 0
    /// Bytes already handed out with `takePending()`.
    private(set) var flushedBytes = 0
    /// Where the body starts in the bytes as stored (after the empty line that ends the
    /// header section), once the header section was read; nil when it has no end within
    /// `maxHeaderScan` (then the whole message is header, RFC 5322 §2.1).
    private(set) var bodyOffset: Int?
    /// What an `X-Hikyaku-Unsubscribe: one-click` field is replaced with (``UnsubscribeRequest``).
    private let unsubscribe: UnsubscribeRequest
    /// Why the message's `X-Hikyaku-Unsubscribe:` field cannot be honoured, once the header
    /// section was read: the message is refused at the dot.
    private(set) var unsubscribeRefusal: SMTPReply?

    init(
        receivedHeader: String, generatedMessageID: String, wantsFrom: Bool = false,
        unsubscribe: UnsubscribeRequest = .unavailable(UnsubscribeRequest.notConfigured),
        allocator: ByteBufferAllocator = .init()
    ) {
        pending = allocator.buffer(capacity: 4096)
        pending.writeString(receivedHeader)
        headerStart = pending.writerIndex
        self.generatedMessageID = generatedMessageID
        self.wantsFrom = wantsFrom
        self.unsubscribe = unsubscribe
    }

    mutating func append(_ chunk: ByteBuffer) {
        var chunk = chunk
        pending.writeBuffer(&chunk)
        if phase == .headers { scanHeaders(final: false) }
    }

    /// Marks the end of data; completes the header scan if still open.
    mutating func finish() {
        if phase == .headers { scanHeaders(final: true) }
    }

    /// Whether `takePending` may be called (the header section is settled).
    var canFlush: Bool { phase == .body }

    mutating func takePending() -> ByteBuffer {
        precondition(phase == .body)
        let out = pending
        flushedBytes += out.readableBytes
        pending = ByteBuffer()
        return out
    }

    private mutating func scanHeaders(final: Bool) {
        let view = pending.readableBytesView
        let data = view.dropFirst(headerStart - pending.readerIndex)
        // The header section ends at the first empty line (RFC 5322 §2.1).
        var end: Int? = nil
        if data.starts(with: [13, 10]) {
            end = data.startIndex
        } else if let range = Self.find([13, 10, 13, 10], in: data) {
            end = range + 2
        }
        let scanned = data.count
        guard end != nil || final || scanned > Self.maxHeaderScan else { return }
        let headerEnd = end ?? data.endIndex
        let header = data[data.startIndex..<headerEnd]
        if wantsFrom { authors = AuthorFields(header: header, isComplete: end != nil || scanned <= Self.maxHeaderScan) }
        receivedFieldCount = ReceivedFields.count(inHeaderOf: header)
        var added = ""
        if let found = Self.headerValue(named: "message-id", in: header) {
            messageID = found
        } else if scanned <= Self.maxHeaderScan || end != nil {
            messageID = generatedMessageID
            added = "Message-ID: \(generatedMessageID)\r\n"
        }
        // The one field the relay rewrites: its byte range, and the two fields instead.
        var replaced: (range: Range<Int>, with: String)?
        if let field = Self.fieldRange(named: "x-hikyaku-unsubscribe", in: header) {
            switch unsubscribe.fields(value: field.value, header: header) {
            case .fields(let text): replaced = (field.range, text)
            case .refused(let reply): unsubscribeRefusal = reply
            }
        }
        if let end {
            // `end` is where the empty line starts, in `pending`, which nothing was taken from yet.
            let growth = added.utf8.count + (replaced.map { $0.with.utf8.count - $0.range.count } ?? 0)
            bodyOffset = end + 2 + growth - pending.readerIndex
        }
        if !added.isEmpty || replaced != nil {
            var rebuilt = ByteBuffer()
            rebuilt.reserveCapacity(pending.readableBytes + added.utf8.count + (replaced?.with.utf8.count ?? 0))
            var prefix = pending.getSlice(at: pending.readerIndex, length: headerStart - pending.readerIndex)!
            rebuilt.writeBuffer(&prefix)
            rebuilt.writeString(added)
            // `header`'s indices are those of `pending`'s readable bytes view.
            let cut = replaced.map { $0.range } ?? (headerStart..<headerStart)
            var before = pending.getSlice(at: headerStart, length: cut.lowerBound - headerStart)!
            rebuilt.writeBuffer(&before)
            if let replaced { rebuilt.writeString(replaced.with) }
            var rest = pending.getSlice(at: cut.upperBound, length: pending.writerIndex - cut.upperBound)!
            rebuilt.writeBuffer(&rest)
            pending = rebuilt
        }
        phase = .body
    }

    /// The bytes of the first field `name` (lower case) with its continuation lines and the
    /// final CRLF, and its unfolded value; nil when there is none.
    static func fieldRange(named name: String, in header: ByteBufferView.SubSequence) -> (range: Range<Int>, value: String)? {
        guard let value = headerValue(named: name, in: header) else { return nil }
        let wanted = Array(name.utf8) + [UInt8(ascii: ":")]
        var lineStart = header.startIndex
        while lineStart < header.endIndex {
            let lineEnd = header[lineStart...].firstIndex(of: 10) ?? header.endIndex
            if lineEnd - lineStart >= wanted.count,
                zip(header[lineStart..<(lineStart + wanted.count)], wanted).allSatisfy({ Self.lowercase($0) == $1 })
            {
                var fieldEnd = min(lineEnd + 1, header.endIndex)
                while fieldEnd < header.endIndex, header[fieldEnd] == 32 || header[fieldEnd] == 9 {
                    fieldEnd = min((header[fieldEnd...].firstIndex(of: 10) ?? header.endIndex) + 1, header.endIndex)
                }
                return (lineStart..<fieldEnd, value)
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: ByteBufferView.SubSequence) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while i <= last {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// The unfolded value of the first header field `name` (case-insensitive, `name` given
    /// in lower case), trimmed. Works on the raw bytes: only the found field becomes a String.
    static func headerValue(named name: String, in header: ByteBufferView.SubSequence) -> String? {
        let wanted = Array(name.utf8) + [UInt8(ascii: ":")]
        var lineStart = header.startIndex
        while lineStart < header.endIndex {
            let lineEnd = header[lineStart...].firstIndex(of: 10) ?? header.endIndex
            if lineEnd - lineStart >= wanted.count,
                zip(header[lineStart..<(lineStart + wanted.count)], wanted).allSatisfy({ Self.lowercase($0) == $1 })
            {
                // The value runs on over continuation lines starting with a space or tab
                // (RFC 5322 §2.2.3 folding).
                var valueEnd = lineEnd
                while valueEnd < header.endIndex, valueEnd + 1 < header.endIndex,
                    header[valueEnd + 1] == 32 || header[valueEnd + 1] == 9
                {
                    valueEnd = header[(valueEnd + 1)...].firstIndex(of: 10) ?? header.endIndex
                }
                let raw = header[(lineStart + wanted.count)..<valueEnd].filter { $0 != 13 && $0 != 10 }
                let trimmed = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: " \t")
                return trimmed.isEmpty ? nil : trimmed
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    private static func lowercase(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
