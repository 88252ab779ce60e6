import Hummingbird
import HummingbirdCore
import Ingest
import LogStore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Queue
import RelayCore
import ServiceLifecycle
import UnsubscribeEndpoint

/// The web console's `Service` (role `console`; `all` when `console.listen` or
/// `console.plain_listen` is set): one server per address, HTTPS with the ingest
/// certificate or plain HTTP on loopback.
///
/// ```
/// GET  /login, POST /login, POST /logout
/// GET  /                         overview (today, 7 and 30 days; hourly chart; rates)
/// GET  /search                   log search form and results
/// GET  /search.csv               the same search as CSV (UTF-8 with BOM), streamed
/// GET  /messages/{queue id}      a message's timeline
/// GET  /lang/{ja|en}?back=…      sets hk_lang and goes back
/// GET  /suppressions, POST /suppressions/add|remove       the account's suppression list
/// GET  /webhooks, POST /webhooks/add|remove               the account's webhook endpoints
/// GET  /campaigns, /campaigns/{id}, POST /campaigns/{id}/pause|resume|cancel   the account's campaigns
/// GET  /ops/queues, POST /ops/suspend|resume              operators only (else 404)
/// GET  /ops/egress, /ops/accounts, /ops/audit, POST /ops/accounts/pause|resume
/// GET  /static/console.css, GET /readyz
/// GET, POST /u/{token}           one-click unsubscribe (no login; `UnsubscribeEndpoint`)
/// ```
public struct ConsoleServer: Service, CustomStringConvertible {
    let settings: ConsoleSettings
    let pages: ConsolePages
    let sessions: ConsoleSessionStore
    let users: ConsoleUserStore
    let tls: ServerTLS?
    let unsubscribe: UnsubscribeEndpoint?
    let logger: Logger

    public var description: String { "ConsoleServer(\((settings.listen + settings.plainListen).joined(separator: ", ")))" }

    public init(
        settings: ConsoleSettings, users: ConsoleUserStore, sessions: ConsoleSessionStore, login: ConsoleLogin, logs: (any LogReader)?,
        stores: ConsoleStores, tls: ServerTLS?, unsubscribe: UnsubscribeEndpoint? = nil, logger: Logger
    ) {
        self.settings = settings
        self.unsubscribe = unsubscribe
        self.users = users
        self.sessions = sessions
        self.pages = ConsolePages(
            sessions: sessions, authenticator: login, logs: logs, stores: stores, sessionTTL: settings.sessionTTL, logger: logger)
        self.tls = tls
        self.logger = logger
    }

    public func run() async throws {
        var servers: [any Service] = []
        for address in settings.listen { servers.append(try application(address: address, secure: true)) }
        for address in settings.plainListen { servers.append(try application(address: address, secure: false)) }
        guard !servers.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        try await ServiceGroup(configuration: .init(services: servers, logger: logger)).run()
    }

    func application(address: String, secure: Bool) throws -> some Service {
        guard let (host, port) = HostPort.parse(address) else { throw ConsoleError("'\(address)' is not host:port") }
        if secure, tls == nil { throw ConsoleError("console.listen needs ingest.tls") }
        let router = Self.router(
            pages, middleware: ConsoleSessionMiddleware(secure: secure, sessions: sessions, users: users), unsubscribe: unsubscribe)
        let tls = secure ? self.tls : nil
        let server = HTTPServerBuilder { responder in
            TLSOptionalChannel(base: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: .seconds(60))), tls: tls)
        }
        var serverLogger = logger
        serverLogger[metadataKey: "console_listener"] = "\(address)"
        return Application(
            router: router, server: server, configuration: .init(address: .hostname(host, port: port), serverName: "hikyaku"),
            onServerRunning: { [serverLogger] channel in
                serverLogger.notice(
                    "console listening on \(channel.localAddress.map { "\($0)" } ?? address) (\(secure ? "HTTPS" : "plain HTTP"))")
            },
            logger: serverLogger)
    }

    static func router(
        _ pages: ConsolePages, middleware: ConsoleSessionMiddleware, unsubscribe: UnsubscribeEndpoint? = nil
    ) -> Router<ConsoleRequestContext> {
        let router = Router(context: ConsoleRequestContext.self)
        // Outside the session group: no login, no CSRF token, no cookie (RFC 8058).
        unsubscribe?.register(on: router)
        router.get("/readyz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n"))) }
        router.get("/static/console.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: Templates.css)))
        }
        let group = router.group().add(middleware: middleware)
        group.get("/login") { request, context in pages.loginForm(request, context) }
        group.post("/login") { request, context in try await pages.login(request, context) }
        group.post("/logout") { request, context in try await pages.logout(request, context) }
        group.get("/lang/{language}") { request, context in pages.switchLanguage(request, context) }
        group.get("/") { request, context in try await pages.overview(request, context) }
        group.get("/search") { request, context in try await pages.search(request, context) }
        group.get("/search.csv") { request, context in try await pages.csv(request, context) }
        group.get("/messages/{queueID}") { request, context in try await pages.timeline(request, context) }
        group.get("/suppressions") { request, context in try await pages.suppressions(request, context) }
        group.post("/suppressions/{action}") { request, context in try await pages.changeSuppression(request, context) }
        group.get("/webhooks") { request, context in try await pages.webhooks(request, context) }
        group.post("/webhooks/{action}") { request, context in try await pages.changeWebhook(request, context) }
        group.get("/campaigns") { request, context in try await pages.campaigns(request, context) }
        group.get("/campaigns/{id}") { request, context in try await pages.campaign(request, context) }
        group.post("/campaigns/{id}/{action}") { request, context in try await pages.changeCampaign(request, context) }
        group.get("/ops/queues") { request, context in try await pages.queues(request, context) }
        group.post("/ops/{action}") { request, context in try await pages.changeQueue(request, context) }
        group.get("/ops/egress") { request, context in try await pages.egress(request, context) }
        group.get("/ops/accounts") { request, context in try await pages.accounts(request, context) }
        group.post("/ops/accounts/{action}") { request, context in try await pages.changeAccount(request, context) }
        group.get("/ops/audit") { request, context in try await pages.audit(request, context) }
        return router
    }
}

/// HTTPS with the ingest certificate as it is now (``ServerTLS`` reloads it), or plain HTTP.
struct TLSOptionalChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let tls: ServerTLS?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard let tls else { return base.setup(channel: channel, logger: logger) }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
        }.flatMap { base.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

struct ConsoleError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
