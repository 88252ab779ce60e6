import RelayCore
import Testing

struct ReceivedFieldsTests {
    func count(_ text: String) -> Int { ReceivedFields.count(inHeaderOf: Array(text.utf8)) }

    @Test func countsFieldsInTheHeaderSectionOnly() {
        let message =
            "Received: from a by b; date\r\n\tfolded received: no\r\nRECEIVED: x\r\nreceived : obsolete form\r\n"
            + "X-Received: no\r\nReceivedX: no\r\nSubject: Received: no\r\n\r\nReceived: in the body\r\n"
        #expect(count(message) == 3)
    }

    @Test func bareLineFeedsAndAMissingBodyWork() {
        #expect(count("Received: a\nReceived: b\n\nReceived: c\n") == 2)
        #expect(count("Received: a\r\nReceived: b") == 2)
        #expect(count("") == 0)
        #expect(count("\r\nReceived: body") == 0)
    }

    @Test(arguments: [0, 1, 30, 31, 500])
    func countsManyHops(hops: Int) {
        let header = (0..<hops).map { "Received: from hop\($0) by hop\($0 + 1); Thu, 1 Jan 2026\r\n" }.joined()
        #expect(count(header + "From: a@b\r\n\r\nbody\r\n") == hops)
    }
}
