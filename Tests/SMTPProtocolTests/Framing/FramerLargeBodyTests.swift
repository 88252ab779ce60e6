import NIOCore
import SMTPProtocol
import Testing

@Suite("SMTPFramer: large bodies stream")
struct FramerLargeBodyTests {
    @Test func thirtyMegabytesIn64KiBPieces() {
        // Content lines, some starting with a dot; the wire form dot-stuffs them.
        var content: [UInt8] = []
        var wire: [UInt8] = []
        let target = 30 * 1024 * 1024
        var lineNumber = 0
        content.reserveCapacity(target + 100)
        wire.reserveCapacity(target + 100_000)
        while content.count < target {
            let line = bytes((lineNumber % 7 == 0 ? "." : "") + "Line \(lineNumber): The quick brown fox jumps over the lazy dog.\r\n")
            content += line
            if line.first == UInt8(ascii: ".") {
                wire.append(UInt8(ascii: "."))
            }
            wire += line
            lineNumber += 1
        }
        wire += bytes(".\r\nQUIT\r\n")

        let pieceSize = 64 * 1024
        var framer = SMTPFramer()
        framer.mode = .data
        var received = 0
        var largestChunk = 0
        var chunkCount = 0
        var checksum = Checksum()
        var summary: DataSummary?
        var afterEnd: [SMTPFrame] = []
        var offset = 0
        while offset < wire.count {
            let piece = wire[offset..<min(offset + pieceSize, wire.count)]
            offset += piece.count
            framer.append(ByteBuffer(bytes: piece))
            let receivedBefore = received
            while let frame = framer.next() {
                switch frame {
                case .dataChunk(let chunk):
                    largestChunk = max(largestChunk, chunk.readableBytes)
                    chunkCount += 1
                    received += chunk.readableBytes
                    checksum.add(chunk)
                case .dataEnd(let end):
                    summary = end
                default:
                    afterEnd.append(frame)
                }
            }
            if summary == nil {
                // Streaming: every piece produces output at once (stuffed dots shrink it).
                #expect(received - receivedBefore > piece.count * 9 / 10)
                #expect(framer.bufferedByteCount == 0)
            }
        }
        var expectedChecksum = Checksum()
        expectedChecksum.add(ByteBuffer(bytes: content))

        #expect(largestChunk <= pieceSize)
        #expect(chunkCount >= wire.count / pieceSize)
        #expect(received == content.count)
        #expect(summary == DataSummary(size: content.count))
        #expect(checksum == expectedChecksum)
        #expect(afterEnd == [.line(ByteBuffer(string: "QUIT"))])
    }
}

/// FNV-1a over a byte stream, to compare 30 MB without keeping a second copy.
struct Checksum: Equatable {
    var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ buffer: ByteBuffer) {
        var value = self.value
        buffer.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                value = (value ^ UInt64(byte)) &* 0x100_0000_01B3
            }
        }
        self.value = value
    }
}
