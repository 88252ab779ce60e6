import RelayCore
import ReturnPath
import Secrets

/// `hikyaku verp decode`: what a VERP address (or its local part) says, checked with the
/// key file — for an operator looking at a bounce, and for tests.
public struct VERPDecoding: Sendable {
    public var queueID: String
    public var recipientIndex: Int
    /// Four hex digits: the first two bytes of SHA-256 of the account name.
    public var accountTag: String
    public var keyID: String

    /// Whether the token was made for `account`.
    public func matches(account: String) -> Bool {
        accountTag == Self.hex(VERPToken.accountTag(account))
    }

    public static func decode(_ address: String, secrets: SecretsSettings) throws -> VERPDecoding {
        guard let path = secrets.keyFile else {
            throw OperatorError("secrets.key_file is not set: VERP tokens are verified with the key file that signed them")
        }
        let keyring: SecretKeyring
        do { keyring = try SecretKeyFile.load(path: path) } catch let error as SecretsError {
            throw OperatorError("secrets.key_file: \(error.detail)")
        }
        // The local part of `b-…@domain`, or the local part alone.
        let local = address.split(separator: "@", maxSplits: 1).first.map(String.init) ?? address
        do {
            let token = try VERPToken.verify(localPart: local, keyring: keyring)
            return VERPDecoding(
                queueID: token.queueID.rawValue, recipientIndex: token.recipientIndex, accountTag: hex(token.accountTag),
                keyID: token.keyID ?? "")
        } catch {
            throw OperatorError("'\(local)' is not a valid VERP token: \(error)")
        }
    }

    static func hex(_ tag: UInt16) -> String {
        let text = String(tag, radix: 16)
        return String(repeating: "0", count: 4 - text.count) + text
    }
}
