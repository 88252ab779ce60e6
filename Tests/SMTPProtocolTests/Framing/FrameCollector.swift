import NIOCore
import SMTPProtocol

/// A frame with data chunks merged, so that framings of differently split input compare.
enum CollectedFrame: Equatable, CustomStringConvertible {
    case line(String)
    case lineTooLong
    case data([UInt8])
    case dataEnd(DataSummary)

    var description: String {
        switch self {
        case .line(let line): "line(\(line.debugDescription))"
        case .lineTooLong: "lineTooLong"
        case .data(let data): "data(\(String(decoding: data, as: UTF8.self).debugDescription))"
        case .dataEnd(let summary):
            "dataEnd(size: \(summary.size), bare: \(summary.bareLineEndingsNormalized), nul: \(summary.nulBytesRemoved))"
        }
    }
}

/// Drives an ``SMTPFramer`` as a server would: after a `DATA` line it switches to data mode.
struct FrameCollector {
    var framer: SMTPFramer
    private(set) var frames: [CollectedFrame] = []
    /// The largest single `.dataChunk` seen.
    private(set) var largestChunk = 0

    init(framer: SMTPFramer = SMTPFramer()) {
        self.framer = framer
    }

    mutating func feed(_ bytes: [UInt8]) {
        self.framer.append(ByteBuffer(bytes: bytes))
        self.drain()
    }

    mutating func drain() {
        while let frame = self.framer.next() {
            switch frame {
            case .line(let line):
                let text = String(buffer: line)
                self.frames.append(.line(text))
                if text.uppercased() == "DATA" {
                    self.framer.mode = .data
                }
            case .lineTooLong:
                self.frames.append(.lineTooLong)
            case .dataChunk(let chunk):
                self.largestChunk = max(self.largestChunk, chunk.readableBytes)
                if case .data(let previous) = self.frames.last {
                    self.frames[self.frames.count - 1] = .data(previous + chunk.bytes)
                } else {
                    self.frames.append(.data(chunk.bytes))
                }
            case .dataEnd(let summary):
                self.frames.append(.dataEnd(summary))
            }
        }
    }

    /// Frames from feeding `pieces` one after another.
    static func frames(_ pieces: [[UInt8]], framer: SMTPFramer = SMTPFramer()) -> [CollectedFrame] {
        var collector = FrameCollector(framer: framer)
        for piece in pieces {
            collector.feed(piece)
        }
        return collector.frames
    }

    /// Frames of a message body: the framer starts in data mode.
    static func dataFrames(_ pieces: [[UInt8]]) -> [CollectedFrame] {
        var framer = SMTPFramer()
        framer.mode = .data
        return self.frames(pieces, framer: framer)
    }
}
