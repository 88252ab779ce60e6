/// Why a secret could not be kept or read. Never carries key material or plaintext.
public struct SecretsError: Error, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        /// The key file is missing, unreadable, or not in the expected form.
        case keyFile
        /// The key file can be read by group or others.
        case permissions
        /// A sealed secret names a key the key file does not hold.
        case unknownKey
        /// A sealed secret is not in the `hks1:` form, or it was altered, or sealed for
        /// another context (authentication failed).
        case cannotOpen
        /// libcrypto failed.
        case crypto
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail }
}
