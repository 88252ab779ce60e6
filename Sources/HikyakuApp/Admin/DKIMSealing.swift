import RelayCore
import Secrets

/// How new DKIM private keys are stored in Redis: sealed with the newest key of
/// `secrets.key_file`, or as plaintext PEM when no key file is set.
public struct DKIMSealing: Sendable {
    let keyring: SecretKeyring?

    /// True when keys are stored unsealed (no `secrets.key_file`).
    public var isPlaintext: Bool { keyring == nil }

    /// The id of the key that seals, if any.
    public var keyID: String? { keyring?.newest.id }

    /// For storing new keys: plaintext when `secrets.key_file` is not set, an error when
    /// `secrets.required` says it must be.
    public static func forStoring(_ settings: SecretsSettings) throws -> DKIMSealing {
        guard settings.keyFile != nil else {
            if settings.required {
                throw OperatorError(
                    "secrets.key_file is required (secrets.required is true); create one with `hikyaku secrets generate-key PATH`")
            }
            return DKIMSealing(keyring: nil)
        }
        return try forRotation(settings)
    }

    /// For re-sealing: the key file must be set.
    public static func forRotation(_ settings: SecretsSettings) throws -> DKIMSealing {
        guard let path = settings.keyFile else {
            throw OperatorError("secrets.key_file is not set; create one with `hikyaku secrets generate-key PATH` and set it")
        }
        do { return DKIMSealing(keyring: try SecretKeyFile.load(path: path)) } catch let error as SecretsError {
            throw OperatorError("secrets.key_file: \(error.detail)")
        }
    }

    /// Creates a key file (mode 0600) with one random key, or adds a newer one with `append`;
    /// returns the new key's id.
    public static func generateKeyFile(path: String, append: Bool) throws -> String {
        do { return try SecretKeyFile.generate(path: path, append: append) } catch let error as SecretsError {
            throw OperatorError(error.detail)
        }
    }
}
