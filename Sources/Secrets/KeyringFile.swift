import Synchronization

/// The key file as a running ingest node holds it: loaded at start, and read again when a
/// sealed secret names a key it does not know yet — a key added to the file (rotation) is
/// used without a restart.
public final class KeyringFile: Sendable {
    public let path: String
    private let keyring: Mutex<SecretKeyring>
    /// When the file was last read again for an unknown key (ms since 1970), to bound it.
    private let lastReload = Mutex<Int64>(0)

    /// Loads `path`, refusing a file others may read.
    public init(path: String) throws {
        self.path = path
        self.keyring = Mutex(try SecretKeyFile.load(path: path))
    }

    public var current: SecretKeyring { keyring.withLock { $0 } }

    /// The file read again — for a signed token naming a key this process has not loaded
    /// (another node rotated first) — at most once per `interval` milliseconds, so forged
    /// key ids cannot make every request read the file. Nil when not read (too soon, or
    /// the file no longer loads: the keys held stay in use).
    public func reload(now: Int64, interval: Int64 = 60_000) -> SecretKeyring? {
        let due = lastReload.withLock { last in
            guard now - last >= interval else { return false }
            last = now
            return true
        }
        guard due, let fresh = try? SecretKeyFile.load(path: path) else { return nil }
        keyring.withLock { $0 = fresh }
        return fresh
    }

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
