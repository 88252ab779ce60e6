import NIOCore
import RelayCore
import SMTPProtocol
import SMTPServer

// MARK: AUTH (RFC 4954)

extension SMTPIngestSession {
    /// A hash to verify against for unknown users, so timing does not reveal which exist.
    private static let dummyHash = "$y$j9T$RqIXSAundvW366C0Ao6rF1$00FWqAV9EMZPJ4/NJBlt6mbi9s7W2TqqGIUi/YLSIk9"

    /// Checks a password against the account's hash, unless the client address or the
    /// user is locked out after repeated failures (counted in Redis, so every ingest node
    /// sees them). The hash is verified off the event loop (yescrypt is slow on purpose).
    ///
    /// ```
    /// C: AUTH PLAIN AGFjbWUAc2VjcmV0
    /// S: 235 2.7.0 Authentication successful        (or 535 5.7.8, or 454 4.7.0 … locked out)
    /// ```
    func checkCredentials(username: String, password: String, _ server: SMTPServerHandler) {
        let account = context.accounts.account(named: username)
        let isLoaded = context.accounts.isLoaded
        let store = context.accountStore
        let policy = context.accountSettings
        let threadPool = context.threadPool
        let address = AuthLockout.addressKey(for: clientIP)
        let checked = server.task { () async throws -> AuthResult in
            guard isLoaded else { return .temporaryFailure }
            let locked: Duration
            do { locked = try await store.authLockout(address: address, user: username) } catch { return .temporaryFailure }
            if locked > .zero { return .lockedOut(seconds: Int((locked.milliseconds + 999) / 1000)) }
            let hash = account?.passwordHash
            let valid = try await threadPool.runIfActive {
                PasswordHasher.verify(password, hash: hash ?? Self.dummyHash) && hash != nil
            }
            if valid {
                try? await store.authSucceeded(address: address, user: username, policy: policy)
                return .success(username)
            }
            _ = try? await store.authFailed(address: address, user: username, policy: policy)
            return .failure
        }
        server.hold(until: checked) { [self] server, result in
            let outcome = (try? result.get()) ?? .temporaryFailure
            // Never log the password; the user name is useful for abuse handling.
            switch outcome {
            case .success:
                logger.info("AUTH succeeded", metadata: ["user": "\(username)"])
                if let account { sendAs(account) }
            case .lockedOut(let seconds):
                logger.notice(
                    "AUTH refused: locked out after repeated failures", metadata: ["user": "\(username)", "seconds": "\(seconds)"])
            default:
                logger.info("AUTH failed", metadata: ["user": "\(username)"])
            }
            perform(stateMachine.credentialsChecked(outcome), server)
        }
    }
}
