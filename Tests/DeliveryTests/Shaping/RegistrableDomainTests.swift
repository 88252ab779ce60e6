import Testing

@testable import Delivery

@Suite struct RegistrableDomainTests {
    @Test(arguments: [
        ("mx.example.net", "example.net"),
        ("mx1.mail.example.net", "example.net"),
        ("example.net", "example.net"),
        ("MX.Example.NET.", "example.net"),
        ("mx.example.co.jp", "example.co.jp"),
        ("smtp.a.example.ne.jp", "example.ne.jp"),
        ("mail.example.com.au", "example.com.au"),
        ("mx.example.ac.uk", "example.ac.uk"),
        ("mx.example.jp", "example.jp"),
        ("mx.co.example.com", "example.com"),  // "co" only counts under a two-letter TLD
        ("mx.example.co", "example.co"),
        ("co.jp", "co.jp"),
        ("localhost", "localhost"),
        ("192.0.2.25", "192.0.2.25"),
        ("2001:db8::25", "2001:db8::25"),
    ])
    func registrableDomain(host: String, expected: String) {
        #expect(RegistrableDomain.of(host) == expected)
    }
}
