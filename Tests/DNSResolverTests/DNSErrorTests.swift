import Testing

@testable import DNSResolver

@Suite struct DNSErrorTests {
    @Test func permanenceFollowsTheKind() {
        let permanent: [DNSError.Code] = [.nameDoesNotExist, .noData, .nullMX, .noExchangerAddresses, .invalidName]
        let temporary: [DNSError.Code] = [.serverFailure, .timeout, .malformedResponse, .shutDown, .invalidServerAddress]
        for code in permanent { #expect(DNSError(code, "x").isPermanent, "\(code)") }
        for code in temporary { #expect(!DNSError(code, "x").isPermanent, "\(code)") }
    }

    @Test func equalityIsByCodeAndDescriptionHasTheDetail() throws {
        #expect(DNSError(.timeout, "a") == DNSError(.timeout, "b"))
        #expect(DNSError(.timeout, "a") != DNSError(.serverFailure, "a"))
        let error = DNSError.nameDoesNotExist(try DNSName("nx.example"))
        #expect(error.description == "nameDoesNotExist: nx.example does not exist (NXDOMAIN)")
    }
}
