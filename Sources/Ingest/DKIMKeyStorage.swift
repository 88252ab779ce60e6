import RelayCore
import Secrets

/// How a DKIM private key is kept in Redis: sealed with the key file when there is one
/// (context `dkim:<domain>:<selector>`, so a sealed key moved to another domain or selector
/// does not open), else as plaintext PEM — the form keys had before sealing existed, still
/// read, and re-sealed by `hikyaku secrets rotate`.
public enum DKIMKeyStorage {
    static func context(domain: String, selector: String) -> String { "dkim:\(domain):\(selector)" }

    /// The stored form of `pem`: sealed with the newest key, or the PEM itself without a keyring.
    public static func store(pem: String, domain: String, selector: String, keyring: SecretKeyring?) throws -> String {
        guard let keyring else { return pem }
        return try keyring.seal(Array(pem.utf8), context: context(domain: domain, selector: selector))
    }

    /// The PEM of a stored key.
    public static func pem(of entry: SendingDomain.DKIMKeyEntry, domain: String, open: (String, String) throws -> [UInt8]) throws -> String
    {
        guard SecretKeyring.isSealed(entry.storedPrivateKey) else { return entry.storedPrivateKey }
        return String(decoding: try open(entry.storedPrivateKey, context(domain: domain, selector: entry.selector)), as: UTF8.self)
    }

    /// The PEM of a stored key, opened with `keyring` (nil: only plaintext keys can be read).
    public static func pem(of entry: SendingDomain.DKIMKeyEntry, domain: String, keyring: KeyringFile?) throws -> String {
        try pem(of: entry, domain: domain) { sealed, context in
            guard let keyring else {
                throw SecretsError(
                    .unknownKey, "the key is sealed (key \(SecretKeyring.keyID(ofSealed: sealed) ?? "?")) and secrets.key_file is not set")
            }
            return try keyring.open(sealed, context: context)
        }
    }

    /// Whether `entry` is already sealed with the newest key of `keyring`.
    public static func isCurrent(_ entry: SendingDomain.DKIMKeyEntry, keyring: SecretKeyring) -> Bool {
        SecretKeyring.keyID(ofSealed: entry.storedPrivateKey) == keyring.newest.id
    }
}
