/// An error from DKIM key handling or signing.
///
/// ``code`` says what kind of failure it was (compare with `==`); ``detail`` says exactly
/// what is wrong, in words fit for an operator's log or a CLI message. Neither ever holds
/// key material.
///
/// Equality compares ``code`` only.
public struct DKIMError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public let code: Code
    /// Human-readable detail: which key, header or value, and what to do about it.
    public let detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(self.code): \(self.detail)" }

    public static func == (lhs: DKIMError, rhs: DKIMError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension DKIMError {
    /// The kind of a ``DKIMError``. A struct over a private enum, so kinds can be added
    /// without breaking callers' `switch` statements; compare with `==`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable {
            case invalidKey
            case unsupportedKey
            case invalidConfiguration
            case noFromHeader
            case multipleFromHeaders
            case malformedHeader
            case cryptoFailure
        }

        private let kind: Kind

        private init(_ kind: Kind) { self.kind = kind }

        /// The PEM text is not a usable private key: not PEM at all, a public key, an
        /// encrypted key, or an RSA key too short to sign with (RFC 8301 §3.2).
        public static let invalidKey = Code(.invalidKey)
        /// A valid private key of a type DKIM cannot sign with (EC, Ed448, DSA, …).
        public static let unsupportedKey = Code(.unsupportedKey)
        /// The signer's domain, selector or header list is not usable.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The message has no `From:` header field, which DKIM must sign (RFC 6376 §5.4).
        public static let noFromHeader = Code(.noFromHeader)
        /// The message has more than one `From:` header field (RFC 5322 §3.6 allows one);
        /// signing it would vouch for a message whose author receivers read ambiguously.
        public static let multipleFromHeaders = Code(.multipleFromHeaders)
        /// The header section does not parse: a line with no colon, a continuation line
        /// with nothing to continue, or a bare LF where CRLF is required (RFC 5322 §2.2).
        public static let malformedHeader = Code(.malformedHeader)
        /// OpenSSL failed where it should not (allocation, an internal error).
        public static let cryptoFailure = Code(.cryptoFailure)

        public var description: String {
            switch self.kind {
            case .invalidKey: return "invalidKey"
            case .unsupportedKey: return "unsupportedKey"
            case .invalidConfiguration: return "invalidConfiguration"
            case .noFromHeader: return "noFromHeader"
            case .multipleFromHeaders: return "multipleFromHeaders"
            case .malformedHeader: return "malformedHeader"
            case .cryptoFailure: return "cryptoFailure"
            }
        }
    }
}
