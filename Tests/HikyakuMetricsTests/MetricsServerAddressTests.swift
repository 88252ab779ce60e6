import Testing

@testable import HikyakuMetrics

struct MetricsServerAddressTests {
    @Test(arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464),
        ("0.0.0.0:0", "0.0.0.0", 0),
        ("metrics.internal:65535", "metrics.internal", 65535),
        ("[::1]:9464", "::1", 9464),
        ("[::]:80", "::", 80),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try #require(MetricsServerAddress(text))
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == text)
    }

    @Test(arguments: [
        "", "9464", "host", "host:", ":9464", "host:-1", "host:+80", "host:65536", "host:９", "::1:9464",
        "[::1]", "[::1]9464", "[::1:9464", "[]:80",
    ])
    func refuses(text: String) {
        #expect(MetricsServerAddress(text) == nil)
    }

    @Test func describesTheBoundPort() throws {
        #expect(try #require(MetricsServerAddress("[::1]:0")).description(port: 4711) == "[::1]:4711")
        #expect(try #require(MetricsServerAddress("127.0.0.1:0")).description(port: 4711) == "127.0.0.1:4711")
    }
}
