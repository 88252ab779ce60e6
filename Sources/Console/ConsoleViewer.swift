import LogStore
import Queue

/// Who is looking: an operator (everything) or a console user of one account (its data
/// only). Every log query goes through ``scope(_:)``, so an account user's query names its
/// account whatever the URL said.
public struct ConsoleViewer: Sendable, Hashable {
    public var user: String
    public var kind: ConsoleUser.Kind
    /// The account an `account` user is bound to.
    public var account: String?
    public var csrf: String

    public init(user: String, kind: ConsoleUser.Kind, account: String?, csrf: String) {
        self.user = user
        self.kind = kind
        self.account = account
        self.csrf = csrf
    }

    public init(_ record: ConsoleSessionRecord) {
        self.init(user: record.user, kind: record.kind, account: record.account, csrf: record.csrf)
    }

    public var isOperator: Bool { kind == .operator }

    /// The account every query of this viewer is limited to: the bound one for an account
    /// user (an account user without one sees nothing: a name no account has), else what
    /// the operator asked for (nil: all).
    public func forcedAccount(requested: String?) -> String? {
        switch kind {
        case .operator: requested.flatMap { $0.isEmpty ? nil : $0 }
        case .account: account ?? "\u{0}none"
        }
    }

    public func scope(_ query: LogQuery) -> LogQuery {
        var query = query
        query.account = forcedAccount(requested: query.account)
        return query
    }

    public func scope(_ query: StatsQuery) -> StatsQuery {
        var query = query
        query.account = forcedAccount(requested: query.account)
        return query
    }
}
