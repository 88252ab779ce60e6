/// Why a local part is not a valid VERP token (or why one could not be made). The bounce
/// listener answers every one of these with `550`: a forged or damaged address gets no
/// bounce of its own (no backscatter).
public struct VERPError: Error, CustomStringConvertible, Equatable {
    enum Code: Equatable {
        case notAToken, badEncoding, unknownKey, badSignature, notEncodable
    }

    let code: Code
    public let detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// Not `b-` followed by the token's length of base32.
    public static let notAToken = VERPError(.notAToken, "not a VERP address (b- and 40 base32 characters)")
    /// A character outside base32, or stray trailing bits.
    public static let badEncoding = VERPError(.badEncoding, "not valid base32")
    /// Made with a key the key file no longer (or never) held.
    public static let unknownKey = VERPError(.unknownKey, "signed with a key the key file does not hold")
    /// The MAC does not match: altered, or forged.
    public static let badSignature = VERPError(.badSignature, "the signature does not match (altered or forged)")

    static func notEncodable(_ detail: String) -> VERPError { VERPError(.notEncodable, detail) }

    public var description: String { detail }
}
