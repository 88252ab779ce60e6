import FuzzSupport
import NIOCore
import SMTPProtocol

/// libFuzzer target: ``SMTPFramer`` (command lines, AUTH response lines, DATA content with
/// `DataModeDecoder`) and ``DotStuffer`` (RFC 5321 §4.1.1.4, §4.5.2, §2.3.8).
///
/// The input is a client's byte stream, framed as a server would: a `DATA` line switches
/// to data mode, an `AUTH` line to one AUTH response line. Properties, beyond not crashing:
/// - the same bytes fed whole, in random pieces and one octet at a time give the same
///   frames (the end of data is found at the same octet whatever the TCP segmentation);
/// - decoded content never holds a bare CR, a bare LF or a NUL, and its size is reported
///   in the ``DataSummary`` (nothing that could end the data at the next hop is passed on);
/// - command lines never contain LF and respect the line limits;
/// - content dot-stuffed by ``DotStuffer`` (in any pieces) decodes to exactly that
///   content, ending at the stuffer's terminator and nowhere before (stuff ∘ decode = id).
@main
enum FuzzDataFramingMain {
    static func main() {
        runLibFuzzer(fuzzDataFraming)
    }
}

/// The input callback (also exported under libFuzzer's conventional name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDataFraming(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = fuzzInput(data, count)
    var random = SplitMix64(hashing: input)

    let whole = Collector.frames([input[...]])
    fuzzCheck(
        Collector.frames(randomPieces(of: input, maximum: 64, using: &random)) == whole,
        "random pieces framed differently from the whole input")
    // One octet at a time for short inputs (the costliest split), tiny pieces for the rest.
    if input.count <= 256 {
        fuzzCheck(Collector.frames(input.map { [$0][...] }) == whole, "one octet at a time framed differently")
    } else {
        fuzzCheck(
            Collector.frames(randomPieces(of: input, maximum: 4, using: &random)) == whole,
            "small random pieces framed differently from the whole input")
    }

    for (index, frame) in whole.enumerated() {
        switch frame {
        case .line(let line):
            fuzzCheck(!line.contains(0x0A), "line with LF: \(show(line))")
            fuzzCheck(line.count + 1 <= SMTPLimits.authResponseLineLength, "line over every limit: \(line.count) octets")
        case .data(let content):
            let complete = index + 1 < whole.count
            fuzzCheck(!content.contains(0), "NUL in decoded content \(show(content))")
            fuzzCheck(hasOnlyCRLFLineEnds(content, allowTrailingCR: !complete), "bare CR or LF in decoded content \(show(content))")
            if complete {
                guard case .end(let summary) = whole[index + 1] else { fuzzFailure("content not followed by its end") }
                fuzzCheck(summary.size == content.count, "summary size \(summary.size) != content size \(content.count)")
                StuffingRoundTrip.check(content, random: &random)
            }
        case .end(let summary):
            if index > 0, case .data = whole[index - 1] {
                break  // checked with its content
            }
            fuzzCheck(summary.size == 0, "empty message with size \(summary.size)")
            StuffingRoundTrip.check([], random: &random)
        case .lineTooLong:
            break
        }
    }
    return 0
}

/// A frame with content merged, so that framings of differently split input compare.
enum Frame: Equatable {
    case line([UInt8])
    case lineTooLong
    case data([UInt8])
    case end(DataSummary)
}

/// Drives an ``SMTPFramer`` as the session handler does.
struct Collector {
    var framer = SMTPFramer()
    var frames: [Frame] = []
    /// Whether the current line answers an AUTH challenge.
    var inAuthResponse = false

    static func frames(_ pieces: [ArraySlice<UInt8>]) -> [Frame] {
        var collector = Collector()
        for piece in pieces {
            collector.framer.append(ByteBuffer(bytes: piece))
            collector.drain()
        }
        return collector.frames
    }

    mutating func drain() {
        while let frame = self.framer.next() {
            switch frame {
            case .line(let line):
                let bytes = Array(line.readableBytesView)
                self.frames.append(.line(bytes))
                self.afterLine(bytes)
            case .lineTooLong:
                self.frames.append(.lineTooLong)
                self.afterLine([])
            case .dataChunk(let chunk):
                fuzzCheck(chunk.readableBytes > 0, "empty data chunk")
                if case .data(let previous) = self.frames.last {
                    self.frames[self.frames.count - 1] = .data(previous + chunk.readableBytesView)
                } else {
                    self.frames.append(.data(Array(chunk.readableBytesView)))
                }
            case .dataEnd(let summary):
                fuzzCheck(self.framer.mode == .command, "framer not back in command mode after the end of data")
                self.frames.append(.end(summary))
            }
        }
    }

    /// The mode for the next frame, as the state machine would set it.
    mutating func afterLine(_ line: [UInt8]) {
        if self.inAuthResponse {
            self.inAuthResponse = false
            self.framer.mode = .command
            return
        }
        let verb = line.prefix(while: { $0 != 0x20 }).map { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 }
        if verb == Array("DATA".utf8) {
            self.framer.mode = .data
        } else if verb == Array("AUTH".utf8) {
            self.inAuthResponse = true
            self.framer.mode = .authResponse
        }
    }
}

enum StuffingRoundTrip {
    /// `content` (as the decoder produced it) → DotStuffer (whole, and in random pieces) →
    /// framer in data mode → the same content, ended exactly at the terminator.
    static func check(_ content: [UInt8], random: inout SplitMix64) {
        let stuffed = self.stuff([content[...]])
        fuzzCheck(
            self.stuff(randomPieces(of: content, maximum: 32, using: &random)) == stuffed,
            "DotStuffer output depends on how the content is split")
        var framer = SMTPFramer()
        framer.mode = .data
        framer.append(ByteBuffer(bytes: stuffed))
        var decoded: [UInt8] = []
        var summary: DataSummary?
        while summary == nil, let frame = framer.next() {
            switch frame {
            case .dataChunk(let chunk): decoded += chunk.readableBytesView
            case .dataEnd(let end): summary = end
            case .line, .lineTooLong: fuzzFailure("line frame in data mode")
            }
        }
        guard let summary else { fuzzFailure("stuffed content \(show(stuffed)) has no end of data") }
        fuzzCheck(framer.bufferedByteCount == 0, "the end of data came before the terminator in \(show(stuffed))")
        fuzzCheck(decoded == content, "stuffed and decoded \(show(decoded)) != content \(show(content))")
        fuzzCheck(summary.bareLineEndingsNormalized == 0 && summary.nulBytesRemoved == 0, "clean content reported as normalised")
    }

    static func stuff(_ pieces: [ArraySlice<UInt8>]) -> [UInt8] {
        var stuffer = DotStuffer()
        var out = ByteBuffer()
        for piece in pieces {
            stuffer.stuff(ByteBuffer(bytes: piece), into: &out)
        }
        stuffer.finish(into: &out)
        return Array(out.readableBytesView)
    }
}
