import DKIM
import Foundation
import Testing

/// Signing throughput on 1 KiB messages, printed, never asserted (timings depend on the
/// machine and on what else runs; a debug build is several times slower than release).
/// Run alone: swift test --skip-build --filter DKIMBenchmarkTests
@Suite(.serialized)
struct DKIMBenchmarkTests {
    /// A typical 1 KiB transactional message: ~300 bytes of header, the rest body.
    static let message: [UInt8] = {
        var text =
            "From: Example Shop <noreply@shop.example.com>\r\nTo: customer@example.net\r\n"
            + "Subject: Your order 12345 has shipped\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n"
            + "Message-ID: <20260101000000.12345@shop.example.com>\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        let line = "Thank you for your order. It is on its way and should arrive within 3 days.\r\n"
        while text.utf8.count + line.utf8.count <= 1024 { text += line }
        text += String(repeating: "x", count: 1022 - text.utf8.count) + "\r\n"
        return Array(text.utf8)
    }()

    @Test(arguments: [(DKIMAlgorithm.rsaSHA256, 300), (DKIMAlgorithm.ed25519SHA256, 3000)])
    func signaturesPerSecond(algorithm: DKIMAlgorithm, iterations: Int) throws {
        #expect(Self.message.count == 1024)
        let signer = try DKIMSigner(domain: "shop.example.com", selector: "hk1", key: DKIMPrivateKey.generate(algorithm))
        _ = try signer.sign(Self.message, time: 1_767_225_600)  // warm up
        let clock = ContinuousClock()
        var bytes = 0
        let elapsed = try clock.measure {
            for index in 0..<iterations {
                bytes &+= try signer.sign(Self.message, time: 1_767_225_600 + Int64(index)).utf8.count
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        #if DEBUG
        let build = "debug build"
        #else
        let build = "release build"
        #endif
        print(
            String(
                format: "DKIM benchmark (%@): %@ on 1 KiB messages: %.0f signatures/s (%.1f µs each, %d signatures)",
                build, algorithm.rawValue, Double(iterations) / seconds, seconds / Double(iterations) * 1e6, iterations))
        #expect(bytes > 0)
    }
}
