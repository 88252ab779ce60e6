import DKIM
import Logging
import Queue
import RelayCore
import SMTPProtocol
import Secrets
import ServiceLifecycle
import Synchronization

/// The accounts as an ingest node sees them: a snapshot of Redis's (see `AccountStore`)
/// plus the static ones of `ingest.users`, looked up without a round trip on every
/// connection and AUTH. `AccountDirectory.Refresher` reloads it within
/// `accounts.refresh_interval` of any change (it polls the `acct:version` counter).
public final class AccountDirectory: Sendable {
    struct Snapshot: Sendable {
        var version: Int64 = -1
        var byName: [String: Account] = [:]
        /// Most specific network first, so a /32 for one host wins over its /24.
        var networks: [(network: IPNetwork, account: Account)] = []
        /// Signers of the active DKIM keys, by sending domain.
        var signers: [String: [DKIMSigner]] = [:]
    }

    private let store: AccountStore
    private let staticAccounts: [Account]
    private let snapshot: Mutex<Snapshot>
    private let logger: Logger
    /// Opens the sealed DKIM keys (nil: no `secrets.key_file`; only plaintext keys are read).
    private let keyring: KeyringFile?

    /// `ingest.users` become accounts that may send as any sender (they predate accounts).
    public init(store: AccountStore, staticUsers: [UserSettings], keyring: KeyringFile? = nil, logger: Logger) {
        self.store = store
        self.logger = logger
        self.keyring = keyring
        self.staticAccounts = staticUsers.map { user in
            var account = Account(name: user.username, pool: user.pool, createdAt: "")
            account.passwordHash = user.passwordHash
            account.restrictSenders = false
            return account
        }
        self.snapshot = Mutex(Self.build(version: -1, stored: [], staticAccounts: staticAccounts))
    }

    /// Whether VERP tokens can be signed (a key file is configured; the workers that send
    /// the mail need it too — README, "Secrets").
    public var signsReturnPaths: Bool { keyring != nil }
    private let warnedNoKeyring = Mutex(false)

    /// The account's return-path domain if mail can be sent with VERP; without a key file,
    /// nil and one warning per process.
    func returnPathDomain(of account: Account?) -> String? {
        guard let domain = account?.returnPathDomain else { return nil }
        if signsReturnPaths { return domain }
        let warned = warnedNoKeyring.withLock { warned in
            defer { warned = true }
            return warned
        }
        if !warned {
            logger.warning(
                "account \(account!.name) has return-path domain \(domain) but secrets.key_file is not set: VERP tokens cannot be signed; its mail keeps its own envelope sender"
            )
        }
        return nil
    }

    /// Whether the Redis accounts have been loaded at least once.
    public var isLoaded: Bool { snapshot.withLock { $0.version >= 0 } }

    public func account(named name: String) -> Account? {
        snapshot.withLock { $0.byName[name] }
    }

    /// The account whose `allowed_networks` holds `ip` (the most specific network wins).
    public func account(forClientIP ip: String) -> Account? {
        guard let bytes = IPNetwork.parseAddress(ip) else { return nil }
        return snapshot.withLock { snapshot in
            snapshot.networks.first { $0.network.contains(addressBytes: bytes) }?.account
        }
    }

    /// The signers for mail from `fromDomain`: that domain's active DKIM keys, or the
    /// nearest parent's (a DKIM `d=` of a parent domain still aligns under DMARC's
    /// relaxed mode, RFC 7489 §3.1.1). nil: not signed.
    func signers(for fromDomain: String) -> (domain: String, signers: [DKIMSigner])? {
        snapshot.withLock { snapshot in
            guard !snapshot.signers.isEmpty else { return nil }
            var candidate = Substring(Account.normalizedDomain(fromDomain))
            while candidate.contains(".") {
                if let found = snapshot.signers[String(candidate)] { return (String(candidate), found) }
                candidate = candidate[candidate.index(after: candidate.firstIndex(of: ".")!)...]
            }
            return nil
        }
    }

    /// Whether any domain has DKIM keys (sessions then read `From:` to sign).
    public var hasSigningDomains: Bool { snapshot.withLock { !$0.signers.isEmpty } }

    /// Whether any account can log in with a password (AUTH is offered only then).
    public var offersAuth: Bool {
        snapshot.withLock { $0.byName.values.contains { $0.passwordHash != nil } }
    }

    /// Reloads if `acct:version` changed since the last load. Returns true if it reloaded.
    @discardableResult
    public func refresh() async throws(QueueError) -> Bool {
        let known = snapshot.withLock { $0.version }
        if known >= 0, try await store.version() == known { return false }
        let (version, accounts) = try await store.snapshot()
        let domains = try await store.domains()
        let names = Set(accounts.map(\.name))
        for clash in staticAccounts where names.contains(clash.name) {
            logger.warning("ingest.users has '\(clash.name)', which is also an account in Redis; the account in Redis is used")
        }
        var fresh = Self.build(version: version, stored: accounts, staticAccounts: staticAccounts)
        for domain in domains {
            let signers = domain.activeKeys.compactMap { entry -> DKIMSigner? in
                do {
                    let pem = try DKIMKeyStorage.pem(of: entry, domain: domain.domain, keyring: keyring)
                    return try DKIMSigner(domain: domain.domain, selector: entry.selector, key: DKIMPrivateKey(pem: pem))
                } catch {
                    logger.error("DKIM key \(entry.selector) of \(domain.domain) is unusable (\(error)); mail is not signed with it")
                    return nil
                }
            }
            if !signers.isEmpty { fresh.signers[domain.domain] = signers }
        }
        snapshot.withLock { $0 = fresh }
        logger.info("loaded \(accounts.count) account(s) and \(domains.count) signing domain(s) (version \(version))")
        return true
    }

    static func build(version: Int64, stored: [Account], staticAccounts: [Account]) -> Snapshot {
        var snapshot = Snapshot(version: version)
        for account in staticAccounts { snapshot.byName[account.name] = account }
        for account in stored { snapshot.byName[account.name] = account }
        snapshot.networks = snapshot.byName.values
            .flatMap { account in account.allowedNetworks.map { (network: $0, account: account) } }
            .sorted {
                $0.network.prefixLength > $1.network.prefixLength
                    || ($0.network.prefixLength == $1.network.prefixLength && $0.account.name < $1.account.name)
            }
        return snapshot
    }

    /// The rules a session of `account` follows (see `SenderPolicy`).
    public static func policy(for account: Account) -> SenderPolicy {
        var refusal: SMTPReply? = nil
        if let paused = account.paused {
            refusal = SMTPReply(451, "4.7.1", "Account \(account.name) is paused: \(paused.reason); contact the relay operator")
        }
        return SenderPolicy(
            accountName: account.name, refusal: refusal,
            allowedDomains: account.restrictSenders ? account.sendingDomains.map(Account.normalizedDomain) : nil,
            maxMessageSize: account.maxMessageSize, maxRecipients: account.maxRecipients)
    }

    /// Keeps the directory fresh: loads at once (retrying while Redis is unreachable),
    /// then checks for changes every `interval`.
    public struct Refresher: Service, CustomStringConvertible {
        let directory: AccountDirectory
        let interval: Duration

        public var description: String { "AccountDirectory.Refresher(every \(interval))" }

        public init(directory: AccountDirectory, interval: Duration) {
            self.directory = directory
            self.interval = interval
        }

        public func run() async throws {
            var failing = false
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    try await directory.refresh()
                    if failing { directory.logger.notice("account data is readable again") }
                    failing = false
                } catch {
                    if !failing {
                        directory.logger.error("cannot read accounts from Redis (\(error)); keeping the last ones loaded and retrying")
                    }
                    failing = true
                }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            }
        }
    }
}
