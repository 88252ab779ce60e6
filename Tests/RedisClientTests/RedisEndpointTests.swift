import RedisClient
import Testing

@Suite struct RedisEndpointTests {
    static let valid: [(url: String, endpoint: RedisEndpoint)] = [
        ("redis://127.0.0.1", RedisEndpoint(host: "127.0.0.1")),
        ("redis://localhost:6380", RedisEndpoint(host: "localhost", port: 6380)),
        ("redis://localhost/", RedisEndpoint(host: "localhost")),
        ("REDIS://cache.internal:7000/3", RedisEndpoint(host: "cache.internal", port: 7000, database: 3)),
        ("redis://:s3cret@host", RedisEndpoint(host: "host", password: "s3cret")),
        (
            "redis://relay:s3cret@host:1/15",
            RedisEndpoint(host: "host", port: 1, username: "relay", password: "s3cret", database: 15)
        ),
        ("redis://:p%40ss%3Aword@host", RedisEndpoint(host: "host", password: "p@ss:word")),
        ("redis://:p@ss@host", RedisEndpoint(host: "host", password: "p@ss")),
        ("redis://:@host", RedisEndpoint(host: "host", password: "")),
        ("redis://[::1]:6390/2", RedisEndpoint(host: "::1", port: 6390, database: 2)),
        ("redis://[::1]", RedisEndpoint(host: "::1")),
        (
            "rediss://worker:s3cret@10.0.0.11:6380",
            RedisEndpoint(host: "10.0.0.11", port: 6380, username: "worker", password: "s3cret", usesTLS: true)
        ),
        ("REDISS://redis.internal", RedisEndpoint(host: "redis.internal", usesTLS: true)),
        // A password with '/', '?' or '#' left unencoded is still the password.
        ("redis://:a/b?c#d@host/1", RedisEndpoint(host: "host", password: "a/b?c#d", database: 1)),
    ]

    @Test(arguments: valid)
    func parses(url: String, endpoint: RedisEndpoint) throws {
        #expect(try RedisEndpoint(url: url) == endpoint)
    }

    static let invalid: [(url: String, complaint: String)] = [
        ("localhost:6379", "does not start with redis://"),
        ("http://localhost", "unsupported scheme 'http://'"),
        ("redis://", "missing host"),
        ("redis://:pw@:6379", "missing host"),
        ("redis://host:0", "invalid port '0'"),
        ("redis://host:65536", "invalid port '65536'"),
        ("redis://host:http", "invalid port 'http'"),
        ("redis://host:+80", "invalid port '+80'"),
        ("redis://host/db", "invalid database 'db'"),
        ("redis://host/-1", "invalid database '-1'"),
        ("redis://host/1/2", "invalid database '1/2'"),
        ("redis://host?timeout=1", "query parameters"),
        ("redis://secret@host", "missing ':'"),
        ("redis://:%zz@host", "bad percent-encoding in the password"),
        ("redis://[::1:6379", "missing its closing ']'"),
    ]

    @Test(arguments: invalid)
    func rejectsWithAClearReason(url: String, complaint: String) {
        let error = #expect(throws: RedisError.self) { try RedisEndpoint(url: url) }
        #expect(error?.kind == .invalidEndpoint)
        #expect(error?.description.contains(complaint) == true, "\(String(describing: error))")
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let endpoint = try RedisEndpoint(url: "redis://relay:topsecret@host:7000/2")
        #expect(endpoint.description == "redis://relay:***@host:7000/2")
        #expect(try RedisEndpoint(url: "redis://[::1]").description == "redis://[::1]:6379")
        #expect(try RedisEndpoint(url: "rediss://:topsecret@h").description == "rediss://:***@h:6379")
    }

    /// Item 6 of issue 10: no parse error quotes any part of the password.
    @Test(arguments: [
        "http://u:topsecret@host", "u:topsecret@host", "redis://:topsecret@host:port", "redis://:top/secret@host/x",
        "redis://:top/secret@[::1:6379", "redis://:topsecret@host?x=1", "redis://:top%zzsecret@host", "redis://:topsecret@",
        "top:secret@ftp://host",
    ])
    func errorsNeverQuoteThePassword(url: String) {
        let error = #expect(throws: RedisError.self) { try RedisEndpoint(url: url) }
        let text = error?.description ?? ""
        #expect(!text.contains("topsecret") && !text.contains("secret"), "\(text)")
    }
}
