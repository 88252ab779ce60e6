import Synchronization

/// The key file as a running ingest node holds it: loaded at start, and read again when a
/// sealed secret names a key it does not know yet — a key added to the file (rotation) is
/// used without a restart.
public final class KeyringFile: Sendable {
    public let path: String
    private let keyring: Mutex<SecretKeyring>

    /// Loads `path`, refusing a file others may read.
    public init(path: String) throws {
        self.path = path
        self.keyring = Mutex(try SecretKeyFile.load(path: path))
    }

    public var current: SecretKeyring { keyring.withLock { $0 } }

    public func open(_ sealed: String, context: String) throws -> [UInt8] {
        let known = current
        if let id = SecretKeyring.keyID(ofSealed: sealed), !known.keys.contains(where: { $0.id == id }) {
            let fresh = try SecretKeyFile.load(path: path)
            keyring.withLock { $0 = fresh }
            return try fresh.open(sealed, context: context)
        }
        return try known.open(sealed, context: context)
    }
}
