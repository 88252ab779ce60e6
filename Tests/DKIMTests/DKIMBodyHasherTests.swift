import Testing

@testable import DKIM

/// The body hash of a body fed in pieces, as the relay hashes a large message while DATA
/// arrives, equals the hash of the whole (RFC 6376 §3.4.4, §3.7 step 1).
struct DKIMBodyHasherTests {
    static func streamedHash(_ body: [UInt8], cuts: [Int]) throws -> [UInt8] {
        let hasher = try DKIMBodyHasher()
        var start = 0
        for cut in cuts.sorted() + [body.count] {
            Array(body[start..<cut]).withUnsafeBytes { hasher.update($0) }
            start = cut
        }
        return try hasher.finish().bytes
    }

    static func wholeHash(_ body: [UInt8]) throws -> [UInt8] {
        try body.withUnsafeBufferPointer { try DKIMSigner.bodyHash($0) }
    }

    /// Every single cut of bodies whose hard parts sit at the seam: a CRLF, a WSP run,
    /// trailing empty lines (dropped) and empty lines followed by content (kept).
    @Test(arguments: [
        "a\r\nb\r\n", "x  \t \r\ny\r\n", "text\r\n\r\n\r\n", "text\r\n \r\n\t\r\n", "a\r\n\r\n\r\nb", "\r\n\r\n", "",
        "no final line end", "bare\rcr\nand lf\r", " \r\n",
    ])
    func everyCutGivesTheWholeHash(body: String) throws {
        let bytes = Array(body.utf8)
        let whole = try Self.wholeHash(bytes)
        for cut in 0...bytes.count {
            #expect(try Self.streamedHash(bytes, cuts: [cut]) == whole, "cut at \(cut) of \(body.debugDescription)")
        }
        #expect(try Self.streamedHash(bytes, cuts: Array(0...bytes.count)) == whole, "byte by byte")
    }

    /// Random bodies dense in CR, LF, WSP and empty lines, cut at random places, some of
    /// them long enough to fill the canonicalizer's buffer many times.
    @Test func randomCutsGiveTheWholeHash() throws {
        var random = SplitMix64(seed: 16_5)
        let alphabet: [[UInt8]] = [[0x61], [0x2E], [0x20], [0x09], [0x0D], [0x0A], [0x0D, 0x0A], [0x0D, 0x0A, 0x0D, 0x0A]]
        for round in 0..<150 {
            var body: [UInt8] = []
            let length = Int(random.next() % (round < 100 ? 200 : 300_000))
            while body.count < length { body += alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let cuts = (0..<Int(random.next() % 12)).map { _ in body.isEmpty ? 0 : Int(random.next() % UInt64(body.count + 1)) }
            #expect(try Self.streamedHash(body, cuts: cuts) == (try Self.wholeHash(body)), "round \(round), cuts \(cuts)")
        }
    }

    /// A signature from the header section and a streamed body hash is the signature of the
    /// whole message (Ed25519 is deterministic, so the fields are equal byte for byte).
    @Test func signingAHeaderWithAStreamedHashGivesTheWholeMessagesField() throws {
        let signer = try DKIMSigner(domain: "example.com", selector: "hk1", key: DKIMSignerTests.ed25519)
        let message = DKIMSignerTests.message
        let header = Array(message[..<(message.count - "Hello Bob.\r\n".utf8.count)])
        let body = Array(message[header.count...])
        let hasher = try DKIMBodyHasher()
        for piece in [body[..<3], body[3..<11], body[11...]] { Array(piece).withUnsafeBytes { hasher.update($0) } }
        let streamed = try header.withUnsafeBytes { try signer.sign(header: $0, bodyHash: try hasher.finish(), time: 9) }
        #expect(streamed == (try signer.sign(message, time: 9)))
        // Without the empty line after it too.
        let fieldsOnly = Array(header.dropLast(2))
        let again = try fieldsOnly.withUnsafeBytes {
            try signer.sign(header: $0, bodyHash: DKIMBodyHash(bytes: try Self.wholeHash(body)), time: 9)
        }
        #expect(again == streamed)
    }
}
