import RelayCore
import Testing

/// Issue 10, item 6: no password in any log line, error or `check-config` output.
struct CredentialRedactionTests {
    @Test(arguments: [
        ("redis://worker:s3cret@10.0.0.5:6379/0", "redis://worker:***@10.0.0.5:6379/0"),
        ("rediss://:s3cret@redis.internal", "rediss://:***@redis.internal"),
        ("redis://s3cret@host", "redis://***@host"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("at redis://u:p@ss/w:rd@h/0 and rediss://:x@y", "at redis://u:***@h/0 and rediss://:***@y"),
        ("'redis://:s3cret@h' must start", "'redis://:***@h' must start"),
        ("  url: \"redis://:s3cret@h\"", "  url: \"redis://:***@h\""),
        ("sentinel_password: s3cret", "sentinel_password: ***"),
        ("  \"password\": \"s3cret\",", "  \"password\": ***"),
        // Not a `key: value` or `key=value` line: left alone.
        ("requirepass s3cret", "requirepass s3cret"),
        ("known keys here: password_hash, username", "known keys here: password_hash, username"),
        ("no secrets here", "no secrets here"),
    ])
    func redacts(text: String, expected: String) {
        #expect(CredentialRedaction.redact(text) == expected)
    }

    @Test func configurationErrorsAreRedactedWhereverTheyQuoteAURL() {
        let error = ConfigurationError(key: "redis.url", problem: "cannot use 'redis://app:hunter2@10.0.0.9:6379'")
        #expect(!error.description.contains("hunter2"))
        #expect(error.description.contains("redis://app:***@10.0.0.9:6379"))
    }

    @Test func redisSettingsRedactItsURL() {
        var settings = RedisSettings()
        settings.url = "rediss://hikyaku-ingest:hunter2@10.0.0.9:6380/0"
        #expect(settings.redactedURL == "rediss://hikyaku-ingest:***@10.0.0.9:6380/0")
    }
}
