import Testing

@testable import Ingest

struct FromHeaderTests {
    @Test(arguments: [
        ("news@acme.example", ["acme.example"]),
        ("Acme News <news@Acme.Example.>", ["acme.example"]),
        ("\"ceo@bank.example\" <x@spam.example>", ["spam.example"]),  // quoted display name ignored
        ("x@spam.example (ceo@bank.example)", ["spam.example"]),  // comment ignored
        ("\"a, b\" <a@one.example>, B <b@two.example>", ["one.example", "two.example"]),
        ("\"quoted \\\" quote@x.example\" <a@one.example>", ["one.example"]),
        ("undisclosed-recipients:;", [String]()),
        ("", [String]()),
    ])
    func authorDomains(value: String, expected: [String]) {
        #expect(FromHeader.domains(of: value) == expected)
    }
}
