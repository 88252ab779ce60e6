import Ingest
import NIOPosix
import Queue
import RelayCore

/// Logging in: the password checked against the user's yescrypt hash (off the event loop),
/// under the same lockout as SMTP AUTH (`AccountStore.authLockout`, counted per client
/// address and per user name, `accounts.auth_*` settings). Console user names count under
/// `console:<name>` so that a console user and an SMTP user of one name lock apart.
public struct ConsoleLogin: Sendable {
    public enum Outcome: Sendable, Equatable {
        case success(ConsoleUser)
        case wrongCredentials
        case lockedOut
    }

    let users: ConsoleUserStore
    let lockout: AccountStore
    let policy: AccountSettings
    let threadPool: NIOThreadPool

    public init(users: ConsoleUserStore, lockout: AccountStore, policy: AccountSettings, threadPool: NIOThreadPool) {
        self.users = users
        self.lockout = lockout
        self.policy = policy
        self.threadPool = threadPool
    }

    /// A password that matches no hash, verified when the user does not exist, so that an
    /// unknown name costs the same time as a known one.
    static let dummyHash = PasswordHasher.hash("hikyaku-console-dummy") ?? ""

    public func attempt(name: String, password: String, clientIP: String?) async throws -> Outcome {
        let address = AuthLockout.addressKey(for: clientIP)
        let user = "console:" + String(name.prefix(256))
        if try await lockout.authLockout(address: address, user: user) > .zero { return .lockedOut }
        let found = try await users.user(named: name)
        let hash = found?.passwordHash ?? Self.dummyHash
        let matches = try await threadPool.runIfActive { PasswordHasher.verify(password, hash: hash) }
        guard let found, matches else {
            _ = try await lockout.authFailed(address: address, user: user, policy: policy)
            return .wrongCredentials
        }
        try await lockout.authSucceeded(address: address, user: user, policy: policy)
        return .success(found)
    }
}
