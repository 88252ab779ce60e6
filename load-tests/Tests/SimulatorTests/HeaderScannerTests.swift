import NIOCore
import Testing

@testable import hikyaku_sim

@Suite struct HeaderScannerTests {
    static func scan(_ chunks: [String]) -> HeaderScanner {
        var scanner = HeaderScanner()
        for chunk in chunks {
            scanner.feed(ByteBuffer(string: chunk))
        }
        scanner.finish()
        return scanner
    }

    @Test func findsBothFieldsWhateverTheirCase() {
        let scanner = Self.scan(["From: a@b\r\nMESSAGE-ID: <1@relay.test>\r\nx-loadtest-seq:  42 \r\n\r\nbody\r\n"])
        #expect(scanner.messageID == "<1@relay.test>")
        #expect(scanner.sequence == "42")
    }

    @Test func unfoldsContinuationLines() {
        let scanner = Self.scan(["Message-ID:\r\n <long@relay.test>\r\nSubject: x\r\n\r\n"])
        #expect(scanner.messageID == "<long@relay.test>")
    }

    /// Every way of splitting the content into two chunks gives the same result.
    @Test func fieldsSplitAcrossChunksAreFound() {
        let content = "Subject: x\r\nMessage-ID:\r\n\t<split@relay.test>\r\nX-Loadtest-Seq: 7\r\n\r\nMessage-ID: <body@x>\r\n"
        let bytes = Array(content.utf8)
        for cut in 0...bytes.count {
            let scanner = Self.scan([String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)])
            #expect(scanner.messageID == "<split@relay.test>", "cut at \(cut)")
            #expect(scanner.sequence == "7", "cut at \(cut)")
        }
    }

    @Test func theBodyIsNotScanned() {
        let scanner = Self.scan(["Subject: x\r\n\r\nMessage-ID: <in-body@x>\r\nX-Loadtest-Seq: 1\r\n"])
        #expect(scanner.messageID == nil)
        #expect(scanner.sequence == nil)
        #expect(scanner.isComplete)
    }

    @Test func theFirstOccurrenceWinsAndAHeaderOnlyMessageEndsTheField() {
        let scanner = Self.scan(["Message-ID: <first@x>\r\nMessage-ID: <second@x>\r\nX-Loadtest-Seq: 3"])
        #expect(scanner.messageID == "<first@x>")
        #expect(scanner.sequence == "3")
    }

    @Test func overlongFieldsAreCut() {
        let long = String(repeating: "a", count: 10_000)
        let scanner = Self.scan(["Message-ID: <\(long)>\r\n\r\n"])
        #expect(scanner.messageID?.utf8.count == HeaderScanner.fieldLimit - "Message-ID: ".utf8.count)
    }
}
