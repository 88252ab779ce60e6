import Foundation
import Hummingbird
import Logging
import NIOCore
import Queue

/// Per request: where it came from, whether it came over TLS, who is logged in (from the
/// `hk_session` cookie) and in which language and zone to answer.
public struct ConsoleRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let clientIP: String?
    /// Set by ``ConsoleSessionMiddleware``.
    var secure = false
    var viewer: ConsoleViewer?
    var sessionID: String?
    var localization = Localization(language: .ja)
    var cookies: [String: String] = [:]
    /// Path and query, for the language switch's way back.
    var requestPath = "/"

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientIP = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { FormData.maximumSize }
}

/// Reads the cookies: language and zone, and the session (which must still name an
/// existing user of the same kind and account: removing a user ends its sessions).
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let secure: Bool
    let sessions: ConsoleSessionStore
    let users: ConsoleUserStore

    func handle(
        _ request: Request, context: ConsoleRequestContext, next: (Request, ConsoleRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.secure = secure
        context.requestPath = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        context.cookies = ConsoleCookies.parse(request.headers[.cookie])
        let language = Language.choose(cookie: context.cookies[ConsoleCookies.language], acceptLanguage: request.headers[.acceptLanguage])
        let zone = context.cookies[ConsoleCookies.timeZone].flatMap { $0.removingPercentEncoding }.flatMap(TimeZone.init(identifier:))
        context.localization = Localization(language: language, timeZone: zone)
        if let id = context.cookies[ConsoleCookies.session], ConsoleCookies.isWellFormedID(id),
            let record = try await sessions.session(id: id),
            let user = try await users.user(named: record.user), user.kind == record.kind, user.account == record.account
        {
            context.viewer = ConsoleViewer(record)
            context.sessionID = id
        }
        return try await next(request, context)
    }
}
