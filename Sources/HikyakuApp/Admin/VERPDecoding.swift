import Queue
import RedisClient
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

/// What the recipient index (`hk:rix:<queue id>`) says about a decoded token, while it is
/// kept (`bounces.window` after the message's last recipient was final).
public struct RecipientIndexEntry: Sendable {
    public var account: String
    public var sender: String
    public var messageID: String
    /// The recipient at the token's index; nil when the index is out of range (a forged
    /// index with a valid MAC cannot happen; a different message could).
    public var recipient: String?
}

extension AdminSession {
    /// The recipient index entry for `decoded`, or nil when the index has expired or never
    /// existed.
    public func recipientIndexEntry(_ decoded: VERPDecoding) async throws -> RecipientIndexEntry? {
        let key = HikyakuApplication.queueConfiguration(configuration).keys.recipientIndex(QueueID(rawValue: decoded.queueID))
        let reply = try await redis.send(RedisCommand("HGETALL", [.string(key)]))
        let fields = reply.array?.compactMap(\.string) ?? []
        guard !fields.isEmpty else { return nil }
        var hash: [String: String] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) { hash[fields[index]] = fields[index + 1] }
        let recipients = (hash["r"] ?? "").split(separator: "\n").map(String.init)
        return RecipientIndexEntry(
            account: hash["a"] ?? "", sender: hash["s"] ?? "", messageID: hash["m"] ?? "",
            recipient: recipients.indices.contains(decoded.recipientIndex) ? recipients[decoded.recipientIndex] : nil)
    }
}
