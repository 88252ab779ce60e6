import Foundation
import Queue
import RelayCore

/// `hikyaku operator …` and `hikyaku account console-user …`: console logins. Every change is
/// written to the audit stream with the operating-system user as the actor (`cli:<user>`).
extension AdminSession {
    var consoleUsers: ConsoleUserStore {
        ConsoleUserStore(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration))
    }

    var consoleSessions: ConsoleSessionStore {
        ConsoleSessionStore(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration))
    }

    static var cliActor: String { "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown") }

    /// Writes a change made from the command line to the audit stream, as the console writes
    /// its own (who, what, when; `hikyaku` console page "audit log"). Called after the change
    /// succeeded; a failure to write it is reported on standard error and does not undo it.
    func audit(_ action: String, _ fields: [(String, String)]) async {
        do { try await consoleSessions.audit(actor: Self.cliActor, action: action, fields: fields) } catch {
            FileHandle.standardError.write(Data("warning: the change was made, but writing it to the audit log failed: \(error)\n".utf8))
        }
    }

    /// Adds a console login with `password` (hashed here): an operator when `account` is nil,
    /// else a user of that account (which must exist). False if the name is taken.
    public func addConsoleUser(name: String, account: String?, password: String) async throws -> Bool {
        let kind: ConsoleUser.Kind = account == nil ? .operator : .account
        guard ConsoleUser.isValidName(name) else {
            throw OperatorError("'\(name)' is not a console user name (1-64 of letters, digits, '.', '-', '_', '@')")
        }
        if let account, try await accountStore.account(named: account) == nil {
            throw OperatorError("there is no account '\(account)'")
        }
        guard let hash = AccountPassword.hash(password) else {
            throw OperatorError("could not hash the password (libxcrypt without yescrypt?)")
        }
        let user = ConsoleUser(
            name: name, kind: kind, account: account, passwordHash: hash,
            createdAt: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()))
        guard try await consoleUsers.add(user) else { return false }
        try await consoleSessions.audit(
            actor: Self.cliActor, action: kind == .operator ? "operator.add" : "console_user.add",
            fields: [("name", name)] + (account.map { [("account", $0)] } ?? []))
        return true
    }

    /// Removes an operator (`account` nil) or a console user of `account`.
    public func removeConsoleUser(name: String, account: String?) async throws -> Bool {
        let kind: ConsoleUser.Kind = account == nil ? .operator : .account
        guard try await consoleUsers.remove(name, kind: kind, account: account) else { return false }
        try await consoleSessions.audit(
            actor: Self.cliActor, action: kind == .operator ? "operator.remove" : "console_user.remove",
            fields: [("name", name)] + (account.map { [("account", $0)] } ?? []))
        return true
    }

    /// Operators (`account` nil) or the console users of `account`, by name: (name, created at).
    public func consoleUserList(account: String?) async throws -> [(name: String, createdAt: String)] {
        let kind: ConsoleUser.Kind = account == nil ? .operator : .account
        return try await consoleUsers.all().filter { $0.kind == kind && $0.account == account }.map { ($0.name, $0.createdAt) }
    }
}
