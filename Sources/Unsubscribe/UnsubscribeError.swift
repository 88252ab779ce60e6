/// Why a text is not a valid unsubscribe token. The `/u/` endpoint answers `malformed`,
/// `unknownKey` and `forged` with 400 and `expired` with 410; the bounce listener refuses
/// every one at `RCPT` with 550. Nothing is recorded for any of them.
public struct UnsubscribeError: Error, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        case malformed, unknownKey, forged, expired
    }

    public let code: Code
    public let detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// Not base32, too short or too long, or not a version this relay writes.
    public static let malformed = UnsubscribeError(.malformed, "not an unsubscribe token")
    /// Signed with a key the key file no longer (or never) held.
    public static let unknownKey = UnsubscribeError(.unknownKey, "signed with a key the key file does not hold")
    /// The MAC does not match: altered, or forged.
    public static let forged = UnsubscribeError(.forged, "the signature does not match (altered or forged)")
    /// Genuine, but older than `campaigns.unsubscribe_token_validity`.
    public static let expired = UnsubscribeError(.expired, "the link has expired")

    /// Whether the token was genuine once (so the page can say "expired" rather than "invalid").
    public var isExpired: Bool { code == .expired }

    public var description: String { detail }
}
